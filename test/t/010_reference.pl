# docs/reference.md is what the catalog says: test/tools/reference.pl run
# on a fresh install prints exactly the committed file (else `make
# reference` regenerates it), and its --check finds every object with a
# comment and every SQLSTATE the code and the tables raise explained in
# test/tools/sqlstates.txt.
use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = "$FindBin::RealBin/../..";
my $node = PostgreSQL::Test::Cluster->new('reference');
$node->init;
# preloaded, so that the session reading pg_settings has leadflow's settings
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'leadflow'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE reference');
$node->safe_psql('reference', 'CREATE EXTENSION leadflow');

local $ENV{PSQL} = $node->installed_command('psql');
local $ENV{PG_CONFIG} = $node->config_data('--bindir') . '/pg_config';
my @connect = ('-h', $node->host, '-p', $node->port, '-d', 'reference');

my ($generated, $err);
IPC::Run::run([ 'perl', "$top/test/tools/reference.pl", @connect ], '>', \$generated, '2>', \$err);
is($?, 0, 'reference.pl ran') or diag($err);

my $committed = slurp_file("$top/docs/reference.md");
if ($generated eq $committed)
{
	pass('docs/reference.md is what the catalog says');
}
else
{
	my $dir = tempdir(CLEANUP => 1);
	PostgreSQL::Test::Utils::append_to_file("$dir/generated.md", $generated);
	my ($diff) = run_command([ 'diff', '-u', "$top/docs/reference.md", "$dir/generated.md" ]);
	my @lines = split /\n/, $diff;
	splice(@lines, 80) if @lines > 80;
	fail('docs/reference.md is what the catalog says (run make reference)');
	diag(join("\n", @lines));
}

my ($report, $check_err);
IPC::Run::run([ 'perl', "$top/test/tools/reference.pl", '--check', @connect ],
	'>', \$report, '2>', \$check_err);
is($?, 0, 'every object has a comment and every SQLSTATE raised is explained')
  or diag($report . $check_err);

done_testing();
