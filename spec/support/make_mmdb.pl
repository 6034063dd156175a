#!/usr/bin/perl
# spec/support/make_mmdb.pl DIR: writes DIR/country.mmdb and DIR/asn.mmdb,
# small MaxMind DB files for the GeoIP tests (never downloaded).  They map
# test addresses only:
#   127.0.0.2/32  DE  AS3320      ::2/128  JP  AS2497
#   127.0.0.3/32  US  AS15169     ::3/128  (no country)  AS64500
#   127.0.0.4/32  (no country) (no ASN): unmapped, as is everything else
#   127.0.0.5/32  FR  (no ASN)
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $dir = shift or die "usage: $0 DIR\n";

my %countries = (
    '127.0.0.2/32' => 'DE',
    '127.0.0.3/32' => 'US',
    '127.0.0.5/32' => 'FR',
    '::2/128'      => 'JP',
);
my %asns = (
    '127.0.0.2/32' => 3320,
    '127.0.0.3/32' => 15169,
    '::2/128'      => 2497,
    '::3/128'      => 64500,
);

sub tree {
    my ($type, $types) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 24,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "dnsagg test $type" },
        map_key_type_callback    => sub { $types->{ $_[0] } },
        remove_reserved_networks => 0,   # the tests use loopback addresses
        alias_ipv6_to_ipv4       => 1,   # ::ffff:a.b.c.d finds a.b.c.d as well
    );
}

sub write_tree {
    my ($tree, $path) = @_;
    open my $fh, '>:raw', $path or die "$path: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$path: $!\n";
}

# IPv4 networks are written into the IPv6 tree as ::a.b.c.d
sub v6 {
    my ($net) = @_;
    return $net =~ /:/ ? $net : '::' . $net =~ s{/(\d+)$}{'/' . ($1 + 96)}er;
}

my $country = tree('dnsagg-Test-Country', { country => 'map', iso_code => 'utf8_string' });
$country->insert_network(v6($_), { country => { iso_code => $countries{$_} } }) for sort keys %countries;
write_tree($country, "$dir/country.mmdb");

my $asn = tree('dnsagg-Test-ASN', {
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
});
$asn->insert_network(v6($_), {
    autonomous_system_number       => $asns{$_},
    autonomous_system_organization => "Test AS$asns{$_}",
}) for sort keys %asns;
write_tree($asn, "$dir/asn.mmdb");
