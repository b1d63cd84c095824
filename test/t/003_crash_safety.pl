# kill -9 of the server in the middle of a large sweep and of a bulk
# routed INSERT.  After crash recovery every lead is either moved with its
# ledger row or untouched, and the counters equal the leads.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LeadflowNodes;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'leadflow'\n");
$node->start;

my $leads = 20000;
$node->safe_psql('postgres', qq{
CREATE EXTENSION leadflow;
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day)
    SELECT g, 'rep' || g, 100000, 100000 FROM generate_series(1, 20) g;
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false);
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'q', g FROM generate_series(1, 20) g;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');
SET leadflow.clock = '2026-01-05 10:00:00+00';
INSERT INTO leadflow.lead (email) SELECT 'p' || g || '\@x.test' FROM generate_series(1, $leads) g;
});

# The invariants that must hold after any crash.
sub check_invariants
{
	my ($what) = @_;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM leadflow.check_counters()'), '0',
		"$what: counters equal the leads");
	is( $node->safe_psql(
			'postgres', q{SELECT count(*) FROM leadflow.lead l WHERE owner_id IS NOT NULL
                          AND NOT EXISTS (SELECT FROM leadflow.decision d
                                           WHERE d.lead_id = l.id AND d.to_rep = l.owner_id)}),
		'0', "$what: every owner has the decision that made them owner");
	is( $node->safe_psql(
			'postgres', q{SELECT count(*) FROM leadflow.lead WHERE reassignments > 0}),
		$node->safe_psql(
			'postgres', q{SELECT count(DISTINCT lead_id) FROM leadflow.decision WHERE kind = 'reassign_sla'}),
		"$what: every moved lead has its reassign_sla row, and no other lead moved");
	is( $node->safe_psql(
			'postgres', q{SELECT coalesce(string_agg(kind || ': ' || detail, E'\n'), '')
                            FROM leadflow.check_invariants()}),
		'', "$what: leadflow.check_invariants() finds nothing");
}

# Start a statement in the background, wait until it is well under way,
# then kill -9 the server and bring it back.
sub crash_during
{
	my ($sql, $what) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/started/, "\\echo started\n$sql\n");
	$node->poll_query_until('postgres',
		q{SELECT count(*) > 0 FROM pg_stat_activity
           WHERE state = 'active' AND query LIKE '%leadflow%' AND pid <> pg_backend_pid()
             AND now() - query_start > interval '300 ms'})
	  or die "the statement did not start";
	kill9_all($node);
	$bg->{run}->kill_kill;
	$node->start;
	pass("$what: the server was killed mid-statement and recovered");
}

crash_during(q{SET leadflow.sweep_batch_size = 100000;
               SELECT * FROM leadflow.sweep('2026-01-06 12:00:00+00');}, 'sweep');
check_invariants('after the killed sweep');
# All or nothing: the sweep is one transaction (it is killed long before
# it could finish here, so in practice nothing).
like($node->safe_psql('postgres', q{SELECT count(*) FROM leadflow.decision WHERE kind = 'reassign_sla'}),
	qr/^(0|$leads)$/, 'the killed sweep left nothing half-done');

# The same sweep, allowed to finish, moves every overdue lead exactly once.
$node->safe_psql('postgres', q{SET leadflow.sweep_batch_size = 100000;
                               SELECT * FROM leadflow.sweep('2026-01-06 12:00:00+00')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM leadflow.lead WHERE reassignments = 1}),
	$leads, "all $leads overdue leads moved once");
check_invariants('after the completed sweep');

crash_during(q{SET leadflow.clock = '2026-01-07 10:00:00+00';
               INSERT INTO leadflow.lead (email)
               SELECT 'late' || g || '@x.test' FROM generate_series(1, 50000) g;}, 'bulk insert');
is($node->safe_psql('postgres', q{SELECT count(*) FROM leadflow.lead WHERE email LIKE 'late%'}),
	'0', 'the killed bulk INSERT left no leads');
check_invariants('after the killed bulk insert');

$node->stop;
done_testing();
