# The documentation's examples, run as they are printed (the blocks
# marked <!-- example: NAME --> in the Markdown; test/tools/doc_examples.pl
# says how each kind runs):
#   - every code block of docs/ (every page but replication.md and
#     architecture.md, so a new page is checked without being listed) and
#     of the README's quick start is an example or marked as output;
#   - the server is configured as docs/operations.md's server.conf says;
#   - the README's quick start runs verbatim in a fresh database after
#     CREATE EXTENSION leadflow and does what it says: a rep and a queue
#     member, a lead that gets an owner, a touch, the work list;
#   - every SQL example runs in a fresh database named after it (one
#     followed by <!-- error of: NAME --> fails with exactly that error),
#     every shell example runs against that server, in page order;
#   - the JavaScript and Python examples are the client suites' (they
#     need node-postgres and psycopg): here only that they exist.
# docs/replication.md's procedures (standbys, failover, subscribers) are
# run by test/t/007-009 with their own servers, not extracted from it;
# docs/architecture.md is the maintainers' map of the source (file
# listings, no examples).
use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $top = "$FindBin::RealBin/../..";
my $tool = "$top/test/tools/doc_examples.pl";
my @pages = grep { !m{/(replication|architecture)\.md$} } sort glob("$top/docs/*.md");
my @readme_sections = ('Quick start');

sub run_tool
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'perl', $tool, @_ ], '>', \$out, '2>', \$err);
	return ($? == 0, $out . $err);
}

sub example
{
	my ($ok, $text) = run_tool(@_);
	die "doc_examples.pl @_: $text" unless $ok;
	return $text;
}

for my $page (@pages)
{
	my ($ok, $problems) = run_tool('--check', $page);
	ok($ok, "every code block of docs/" . ($page =~ s{.*/}{}r) . " is an example or output")
	  or diag($problems);
}
for my $section (@readme_sections)
{
	my ($ok, $problems) = run_tool('--check', '--section', $section, "$top/README.md");
	ok($ok, "every code block of the README's \"$section\" is an example or output") or diag($problems);
}

# Links.  Every relative link of the Markdown ([text](path#anchor)) names
# a file that exists and, with an anchor, a heading of it (GitHub's
# anchors: lower case, punctuation dropped, spaces made hyphens, a
# repeated heading numbered); every docs/ page that a comment or page
# of the tree mentions exists.  A page moved or a heading renamed fails
# here instead of leaving readers at a dead link.
sub anchors
{
	my ($file) = @_;
	my (%anchor, %seen, $fence);
	open(my $fh, '<', $file) or die "$file: $!";
	while (my $line = <$fh>)
	{
		if ($line =~ /^ *(```+|~~~+)/) { $fence = defined $fence ? undef : $1; next; }
		next if defined $fence || $line !~ /^#+\s+(.*?)\s*$/;
		(my $slug = lc $1) =~ s/[^\w\- ]//g;
		$slug =~ s/ /-/g;
		my $n = $seen{$slug}++;
		$anchor{ $n ? "$slug-$n" : $slug } = 1;
	}
	close $fh;
	return \%anchor;
}

my @markdown = ("$top/README.md", "$top/CHANGELOG.md", "$top/test/bench/README.md", sort glob("$top/docs/*.md"));
my @dead;
for my $file (@markdown)
{
	(my $short = $file) =~ s{^\Q$top\E/}{};
	(my $dir = $file) =~ s{/[^/]*$}{};
	open(my $fh, '<', $file) or die "$file: $!";
	my $fence;
	while (my $line = <$fh>)
	{
		my $ln = $.;    # anchors() reads other files
		if ($line =~ /^ *(```+|~~~+)/) { $fence = defined $fence ? undef : $1; next; }
		next if defined $fence;
		(my $text = $line) =~ s/`[^`]*`//g;    # not links inside code
		while ($text =~ /\]\(([^)\s]+)\)/g)
		{
			my $link = $1;
			next if $link =~ m{^[a-z]+:};        # https:, mailto:
			my ($path, $anchor) = split /#/, $link, 2;
			my $target = $path eq '' ? $file : "$dir/$path";
			if (!-e $target) { push @dead, "$short:$ln: $link: no such file"; next; }
			push @dead, "$short:$ln: $link: no such heading"
			  if defined $anchor && $target =~ /\.md$/ && !anchors($target)->{$anchor};
		}
	}
	close $fh;
}
for my $file (grep { -f } map { glob("$top/$_") } qw(README.md CHANGELOG.md Makefile docs/*.md sql/*.sql src/*.[ch] test/*.sh test/t/*.pl test/tools/* test/client/*.js test/client/*.py test/bench/* ops/prometheus/*))
{
	(my $short = $file) =~ s{^\Q$top\E/}{};
	open(my $fh, '<', $file) or die "$file: $!";
	while (my $line = <$fh>)
	{
		while ($line =~ m{\b(docs/[\w-]+\.md)\b}g)
		{
			push @dead, "$short:$.: $1: no such file" unless -e "$top/$1";
		}
	}
	close $fh;
}
is(join("\n", @dead), '', 'every link and docs/ page named in the tree exists');

# The server, configured as the operations guide says.
my $node = PostgreSQL::Test::Cluster->new('docs');
$node->init;
$node->append_conf('postgresql.conf', example("$top/docs/operations.md", 'server.conf'));
$node->start;
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'pg_cron,leadflow',
	"operations.md's server.conf: pg_cron and leadflow preloaded");
my $superuser = $node->safe_psql('postgres', 'SELECT current_user');

# psql(DB, SQL): run SQL as a script the way a reader pastes it.
sub psql
{
	my ($db, $sql) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port,
			'-U', $superuser, '-d', $db, '-f', '-' ],
		'<', \$sql, '>', \$out, '2>', \$err);
	return ($? == 0, $out, $err);
}

# The error lines psql printed (ERROR, DETAIL, HINT), as a reader sees them.
sub error_lines
{
	my ($stderr) = @_;
	return join('', map { s/^psql:[^:]*:\d+: //r } grep { /^(psql:[^:]*:\d+: )?(ERROR|DETAIL|HINT):/ }
		  split /^/, $stderr);
}

sub fresh_database
{
	my ($name) = @_;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$name"});
	$node->safe_psql($name, 'CREATE EXTENSION leadflow');
}

# The quick start, verbatim, in the database crm the shell examples use.
fresh_database('crm');
my ($qs_ok, $qs_out, $qs_err) =
  psql('crm', example('--section', 'Quick start', "$top/README.md", 'quickstart.sql'));
ok($qs_ok, "the README's quick start runs verbatim after CREATE EXTENSION leadflow") or diag($qs_err);
is($node->safe_psql('crm', q{
	SELECT r.name || ' in ' || m.queue FROM leadflow.rep r JOIN leadflow.queue_member m ON m.rep_id = r.id}),
	'Ana in default', 'it made a rep and a member of the queue default');
is($node->safe_psql('crm', q{
	SELECT l.external_id || ' owned by ' || r.name || ', ' || l.stage || ', ' || l.touches || ' touch'
	  FROM leadflow.lead l JOIN leadflow.rep r ON r.id = l.owner_id}),
	'crm-1001 owned by Ana, working, 1 touch', 'its lead got an owner and a touch');
like($qs_out, qr/^\s*1 \|\s+1 \| Ann Archer \| working \| email\s+\|/m,
	'its last statement printed the lead on the work list, the next step an email');
is($node->safe_psql('crm', 'SELECT count(*) FROM leadflow.check_invariants()'), '0',
	'and the invariants hold');

# run_examples(FILE, SECTION): every example of FILE (of its SECTION), in order.
sub run_examples
{
	my ($file, $section) = @_;
	my @scope = defined $section ? ('--section', $section) : ();
	(my $short = $file) =~ s{^\Q$top\E/}{};
	my %errors;
	for my $line (split /\n/, example('--list', @scope, $file))
	{
		my (undef, $name) = split /\t/, $line;
		next if $name eq 'quickstart.sql';    # above
		if ($name =~ /\.sql$/)
		{
			(my $db = $name) =~ s/\.sql$//;
			$db =~ s/[^a-z0-9]/_/g;
			fresh_database($db);
			my ($ok, $out, $err) = psql($db, example(@scope, $file, $name));
			my ($has_error, $expected) = run_tool('--error', @scope, $file, $name);
			if ($has_error)
			{
				ok(!$ok, "$short: $name fails") or diag($out);
				is(error_lines($err), $expected, "$short: $name fails with the error printed below it");
			}
			else
			{
				ok($ok, "$short: $name runs") or diag($err);
			}
		}
		elsif ($name =~ /\.sh$/)
		{
			my $dir = tempdir(CLEANUP => 1);
			my ($out, $err) = ('', '');
			my $script = example(@scope, $file, $name);
			local $ENV{PGHOST} = $node->host;
			local $ENV{PGPORT} = $node->port;
			local $ENV{PGUSER} = $superuser;
			delete local $ENV{PGDATABASE};
			IPC::Run::run([ 'bash', '-e', '-c', "cd '$dir' && $script" ], '>', \$out, '2>', \$err);
			ok($? == 0, "$short: $name runs") or diag($out . $err);
			note($out);
		}
		elsif ($name =~ /\.conf$/)
		{
			is($name, 'server.conf', "$short: $name is the server's configuration (applied above)");
		}
		elsif ($name =~ /\.(js|py)$/)
		{
			my $runner = $1 eq 'js' ? 'test/client/docs.test.js' : 'test/client/docs_test.py';
			ok($short eq 'docs/integration.md' && -f "$top/$runner",
				"$short: $name is run by $runner (the client suites)");
		}
		else
		{
			fail("$short: $name: no test knows how to run a .${\ ($name =~ s/.*\.//r)} example");
		}
	}
}

run_examples($_) for @pages;

# What the shell examples claim.
is($node->safe_psql('crm_copy', 'SELECT count(*) FROM leadflow.lead'), '1',
	'dump.sh: the restored copy has the lead');
is($node->safe_psql('postgres', q{SELECT string_agg(jobname || '@' || database, ' ' ORDER BY jobname) FROM cron.job}),
	'leadflow-invariants-sales@sales leadflow-sweep-sales@sales',
	'cron.sh: one sweep job and one invariants job for the database sales');
is($node->safe_psql('keep', q{SELECT count(*) FROM pg_extension WHERE extname = 'leadflow'}), '0',
	'keep.sql: the extension is gone, the copies stay');

done_testing();
