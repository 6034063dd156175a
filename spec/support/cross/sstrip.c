/*
 * sstrip.c - `sstrip FILE`: what OpenWrt's sstrip does to every binary of a
 * musl build (config/Config-build.in: "Binary stripping method", default
 * USE_SSTRIP unless glibc or an external toolchain), so that `make cross`
 * reports the bytes a router's flash really holds.
 *
 * A stripped ELF file still carries its section headers and the sections
 * no segment loads (.comment, .gnu.attributes, .shstrtab), which neither the
 * kernel nor the dynamic linker reads: the file is cut after the last byte
 * a program header covers, and the ELF header no longer points at section
 * headers.  Either byte order, 32 or 64 bits.  Exits non-zero, saying why,
 * for anything else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int big_endian;

static uint64_t get(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
	return v;
}

static void put(unsigned char *p, int n, uint64_t v)
{
	for (int i = 0; i < n; i++)
		p[big_endian ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

int main(int argc, char **argv)
{
	static unsigned char elf[1 << 22];
	const char *path = argc == 2 ? argv[1] : NULL, *why = NULL;
	FILE *f = path ? fopen(path, "r+b") : NULL;
	size_t len = f ? fread(elf, 1, sizeof elf, f) : 0;
	int rc = 1;

	if (!path) {
		why = "usage: sstrip FILE";
		goto out;
	}
	if (!f || ferror(f) || !feof(f)) {
		why = "cannot read it (or it is over 4 MiB)";
		goto out;
	}
	if (len < 52 || memcmp(elf, "\177ELF", 4) != 0 || (elf[4] != 1 && elf[4] != 2) || (elf[5] != 1 && elf[5] != 2)) {
		why = "not an ELF file";
		goto out;
	}
	big_endian = elf[5] == 2;
	int wide = elf[4] == 2; /* 64 bits: the offsets and sizes are 8 bytes */
	int w = wide ? 8 : 4;
	uint64_t phoff = get(elf + (wide ? 32 : 28), w);
	uint64_t phentsize = get(elf + (wide ? 54 : 42), 2), phnum = get(elf + (wide ? 56 : 44), 2);
	uint64_t end = phoff + phentsize * phnum;
	if (len < (wide ? 64u : 52u) || phnum == 0 || phentsize < (wide ? 56u : 32u) || end > len) {
		why = "no program headers to keep";
		goto out;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		const unsigned char *ph = elf + phoff + i * phentsize;
		uint64_t offset = get(ph + (wide ? 8 : 4), w), filesz = get(ph + (wide ? 32 : 16), w);
		if (offset + filesz > len) {
			why = "a segment runs past the end of the file";
			goto out;
		}
		if (offset + filesz > end)
			end = offset + filesz;
	}
	put(elf + (wide ? 40 : 32), w, 0); /* e_shoff */
	put(elf + (wide ? 58 : 46), 2, 0); /* e_shentsize */
	put(elf + (wide ? 60 : 48), 2, 0); /* e_shnum */
	put(elf + (wide ? 62 : 50), 2, 0); /* e_shstrndx */
	if (fseek(f, 0, SEEK_SET) != 0 || fwrite(elf, 1, (size_t)end, f) != end || fflush(f) != 0 ||
	    ftruncate(fileno(f), (off_t)end) != 0) {
		why = "cannot write it";
		goto out;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	if (why)
		fprintf(stderr, "sstrip: %s%s%s\n", path ? path : "", path ? ": " : "", why);
	return rc;
}
