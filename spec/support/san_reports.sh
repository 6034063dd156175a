#!/bin/sh
# spec/support/san_reports.sh DIR: what the sanitizers wrote to DIR (their
# log_path) during `make test-asan` or `make test-tsan`, one file a process.
# Prints every finding (ASan, LeakSanitizer, UBSan, TSan) and exits 1 if
# there is any.  Files holding only notes are counted, not failed: LSan in a
# child forked by a threaded process (a scrape in the fork-per-scrape host)
# notes "Running thread N was not suspended" about the parent's reader
# thread, which the child does not have.
set -u
dir=$1
findings=0
notes=0
for f in "$dir"/*; do
	[ -e "$f" ] || continue
	if grep -qE 'ERROR: [A-Za-z]+Sanitizer|runtime error:|WARNING: ThreadSanitizer' "$f"; then
		echo "== $f"
		cat "$f"
		findings=$((findings + 1))
	else
		notes=$((notes + 1))
	fi
done
echo "sanitizer findings: $findings (and $notes files of notes only, in $dir)"
[ "$findings" -eq 0 ]
