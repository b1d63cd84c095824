# Failover mid-work with synchronous replication.  Two nodes, alpha and
# bravo, take turns as primary and synchronous standby; pg_cron and
# leadflow are preloaded on both.  Three times the primary is killed
# (kill -9 of every process) in the middle of work -- concurrent
# single-row routing, a bulk routed INSERT, a sweep -- and the standby is
# promoted.  Then every acknowledged lead is there with its owner, one
# decision, its alerts and counted seat; leads in flight are there whole
# or not at all; check_invariants() is empty; routing and the sweep go on
# (the sweep by the pg_cron job scheduled on the old primary, with nobody
# scheduling it again, and no lead reassigned twice for one breach); and
# the old primary rejoins as a standby with pg_rewind and agrees table by
# table.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LeadflowNodes;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $alpha = new_node('alpha');
$alpha->start;
my $bravo = new_standby($alpha, 'bravo');
make_sync($alpha, $bravo);

# Round-the-clock hours, so SLAs are elapsed time.  inbound: four reps
# with 150 seats between them (the single-row writers fill them and then
# the backlog); bulk and swept: plenty of seats.
$alpha->safe_psql('postgres', q{
CREATE EXTENSION pg_cron;
CREATE EXTENSION leadflow;
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day, hours)
SELECT g, 'rep' || g, CASE WHEN g <= 5 THEN 30 + 10 * g ELSE 100000 END, 100000,
       'mon-sun 00:00-24:00 UTC'
  FROM generate_series(1, 13) g;
UPDATE leadflow.rep SET manager_id = 1 WHERE id > 1;
INSERT INTO leadflow.queue (name, sticky_account, first_touch_sla) VALUES
    ('inbound', false, '1 hour'), ('bulk', true, '1 hour'), ('swept', false, '1 hour');
INSERT INTO leadflow.queue_member (queue, rep_id)
SELECT 'inbound', g FROM generate_series(2, 5) g
UNION ALL SELECT 'bulk', g FROM generate_series(6, 9) g
UNION ALL SELECT 'swept', g FROM generate_series(10, 13) g;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'single', '{"source": "single"}', 'inbound'),
    (2, 'bulk', '{"source": ["bulk", "bulk-late"]}', 'bulk'),
    (3, 'swept', '{"source": "swept"}', 'swept');
});
$alpha->wait_for_catchup($bravo, 'replay');

# Decisions, alerts and seats agree lead by lead: one routing decision per
# lead inserted; a backlog alert per backlog decision; a cap_reached alert
# per decision that took a rep's last seat; an sla_breach and a
# reassigned alert per reassignment; no lead reassigned twice away from
# the same owner (twice for one breach); reassignments = the ledger's.
sub ledger_holds
{
	my ($node, $what) = @_;
	is( $node->safe_psql('postgres', q{
SELECT count(*) FROM leadflow.lead l
 WHERE (SELECT count(*) FROM leadflow.decision d
         WHERE d.lead_id = l.id AND d.kind IN ('assign', 'backlog', 'duplicate', 'suppress')) <> 1}),
		'0', "$what: every lead has exactly one routing decision");
	is( $node->safe_psql('postgres', q{
WITH decided AS (
    SELECT d.lead_id,
           count(*) FILTER (WHERE d.kind = 'backlog') AS backlogged,
           count(*) FILTER (WHERE d.kind = 'reassign_sla' AND d.to_rep IS NOT NULL) AS reassigned,
           count(*) FILTER (WHERE d.kind IN ('reassign_sla', 'escalate')) AS breaches
      FROM leadflow.decision d GROUP BY 1),
last_seat AS (
    SELECT d.lead_id, count(*) AS last_seats
      FROM leadflow.decision d, jsonb_array_elements(d.candidates) c
     WHERE (c ->> 'chosen')::boolean AND (c ->> 'open')::integer + 1 = (c ->> 'max_open')::integer
     GROUP BY 1),
alerted AS (
    SELECT a.lead_id,
           count(*) FILTER (WHERE a.kind = 'backlog') AS backlogged,
           count(*) FILTER (WHERE a.kind = 'cap_reached') AS last_seats,
           count(*) FILTER (WHERE a.kind = 'reassigned') AS reassigned,
           count(*) FILTER (WHERE a.kind = 'sla_breach') AS breaches
      FROM leadflow.alert a GROUP BY 1)
SELECT count(*)
  FROM leadflow.lead l
  LEFT JOIN decided d ON d.lead_id = l.id
  LEFT JOIN last_seat s ON s.lead_id = l.id
  LEFT JOIN alerted a ON a.lead_id = l.id
 WHERE coalesce(d.backlogged, 0) <> coalesce(a.backlogged, 0)
    OR coalesce(s.last_seats, 0) <> coalesce(a.last_seats, 0)
    OR coalesce(d.reassigned, 0) <> coalesce(a.reassigned, 0)
    OR coalesce(d.breaches, 0) <> coalesce(a.breaches, 0)
    OR coalesce(d.breaches, 0) <> l.reassignments}),
		'0', "$what: alerts and reassignment counts follow the ledger, lead by lead");
	is( $node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT lead_id, from_rep FROM leadflow.decision
                       WHERE kind IN ('reassign_sla', 'escalate')
                       GROUP BY 1, 2 HAVING count(*) > 1) twice}),
		'0', "$what: no lead was reassigned twice for one breach");
	invariants_hold($node, 'postgres', $what);
	return;
}

# The promoted node routes and sweeps.
sub work_goes_on
{
	my ($node, $what) = @_;
	like( $node->safe_psql('postgres',
			q{INSERT INTO leadflow.lead (email, source) VALUES ('after-' || gen_random_uuid() || '@later.test', 'bulk')
              RETURNING owner_id}),
		qr/^(6|7|8|9)$/, "$what: a new lead is routed on the new primary");
	like($node->safe_psql('postgres', q{SELECT string_agg(action, ',') FROM leadflow.sweep()}),
		qr/sla_reassigned/, "$what: and the sweep runs there");
	return;
}

# Fail over from $old to $new: $old is killed, $new promoted; commits on
# $new do not wait for a standby until $old is back.
sub fail_over
{
	my ($old, $new) = @_;
	kill9_all($old);
	$new->promote;
	make_async($new);
	is($new->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 'f', $new->name . ' is the primary now');
	return;
}

# The killed node comes back as a synchronous standby of the new primary
# and holds exactly what the new primary holds.
sub rejoin
{
	my ($old, $new, $what) = @_;
	rewind_as_standby($old, $new);
	make_sync($new, $old);
	$new->wait_for_catchup($old, 'replay');
	is($old->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', "$what: " . $old->name . ' is a standby again');
	is_deeply(leadflow_digest($old, 'postgres'), leadflow_digest($new, 'postgres'),
		"$what: " . $old->name . ' agrees with ' . $new->name . ' table by table');
	return;
}

# Wait until a statement of the session called $app has run for a while.
sub wait_running
{
	my ($node, $app, $like) = @_;
	$node->poll_query_until('postgres', qq{
SELECT count(*) > 0 FROM pg_stat_activity
 WHERE application_name = '$app' AND state = 'active' AND query LIKE '$like'
   AND now() - query_start > interval '400 ms'})
	  or die "$app did not get under way";
	return;
}

########################################################################
# 1. Concurrent single-row routing on alpha: four sessions insert one
#    lead per transaction, printing each lead's id and owner once its
#    commit is acknowledged (after bravo flushed it).
########################################################################
my $sessions = 4;
my @writers;
for my $s (1 .. $sessions)
{
	my $script = "${PostgreSQL::Test::Utils::tmp_check}/single-$s.sql";
	open(my $fh, '>', $script) or die "$script: $!";
	print $fh "INSERT INTO leadflow.lead (email, source) VALUES ('s$s-$_\@acct" . ($_ % 50)
	  . ".test', 'single') RETURNING id, coalesce(owner_id::text, 'backlog');\n"
	  for 1 .. 3000;
	close $fh;
	my %w = (out => '', err => '');
	$w{run} = IPC::Run::start(
		[ 'psql', '-X', '-Atq', '-F', ' ', '-v', 'ON_ERROR_STOP=1', '-d', $alpha->connstr('postgres'), '-f', $script ],
		'>', \$w{out}, '2>', \$w{err}, IPC::Run::timeout(180));
	push @writers, \%w;
}
$bravo->poll_query_until('postgres',
	q{SELECT count(*) >= 400 FROM leadflow.lead WHERE source = 'single'})
  or die 'the single-row writers did not get going';
fail_over($alpha, $bravo);
my %acknowledged;
for my $w (@writers)
{
	eval { $w->{run}->finish; };
	like($w->{err}, qr/server closed the connection|connection to server|terminat/i,
		'a writer lost its primary mid-stream');
	for my $line (split /\n/, $w->{out})
	{
		my ($id, $owner) = split / /, $line;
		$acknowledged{$id} = $owner;
	}
}
my $acked = scalar keys %acknowledged;
my %on_bravo = map { split / / } split /\n/,
  $bravo->safe_psql('postgres',
	q{SELECT id || ' ' || coalesce(owner_id::text, 'backlog') FROM leadflow.lead WHERE source = 'single'});
my @lost = grep { !exists $on_bravo{$_} || $on_bravo{$_} ne $acknowledged{$_} } keys %acknowledged;
is(scalar @lost, 0, "all $acked acknowledged leads are on bravo with the owner they were given")
  or diag("lost or changed: @lost[0 .. ($#lost < 9 ? $#lost : 9)]");
my $unacknowledged = scalar(keys %on_bravo) - $acked;
cmp_ok($unacknowledged, '<=', $sessions,
	'at most one lead per session committed without its acknowledgement reaching the client');
my $backlogged = grep { $_ eq 'backlog' } values %acknowledged;
cmp_ok($backlogged, '>', 0, 'the writers had filled the reps and were backlogging');
is($bravo->safe_psql('postgres', q{SELECT count(*) FROM leadflow.alert WHERE kind = 'cap_reached'}),
	'4', "each inbound rep's last seat raised one cap_reached alert");
note("single-row routing: $acked leads acknowledged ($backlogged of them backlogged), "
	  . "$unacknowledged more committed in flight (kept, complete), "
	  . "at most $sessions in flight in all; none lost, none doubled");
ledger_holds($bravo, 'after failover mid single-row routing');
work_goes_on($bravo, 'after failover mid single-row routing');
rejoin($alpha, $bravo, 'after failover mid single-row routing');

########################################################################
# 2. A bulk routed INSERT on bravo: three acknowledged batches, then a
#    40,000-lead INSERT killed in flight.
########################################################################
for my $batch (1 .. 3)
{
	$bravo->safe_psql('postgres', qq{
INSERT INTO leadflow.lead (email, source)
SELECT 'b$batch-' || g || '\@acct' || (g % 200) || '.test', 'bulk' FROM generate_series(1, 1000) g});
}
my $bulk_before = $bravo->safe_psql('postgres', q{
SELECT count(*) || ' ' || md5(string_agg(l.id || ':' || l.owner_id || ':' || d.id || ':' || d.to_rep, ',' ORDER BY l.id))
  FROM leadflow.lead l JOIN leadflow.decision d ON d.lead_id = l.id
 WHERE l.source = 'bulk'});
like($bulk_before, qr/^300\d /, 'three batches of bulk leads committed and acknowledged');
my $in_flight = 40000;
my $bulk = $bravo->background_psql('postgres', on_error_stop => 0);
$bulk->query_until(qr/started/, qq{SET application_name = 'bulk';
\\echo started
INSERT INTO leadflow.lead (email, source)
SELECT 'late' || g || '\@acct' || (g % 500) || '.test', 'bulk-late' FROM generate_series(1, $in_flight) g;
});
wait_running($bravo, 'bulk', 'INSERT%');
fail_over($bravo, $alpha);
$bulk->{run}->kill_kill;
is($alpha->safe_psql('postgres', q{
SELECT count(*) || ' ' || md5(string_agg(l.id || ':' || l.owner_id || ':' || d.id || ':' || d.to_rep, ',' ORDER BY l.id))
  FROM leadflow.lead l JOIN leadflow.decision d ON d.lead_id = l.id
 WHERE l.source = 'bulk'}), $bulk_before,
	'every acknowledged bulk lead is on alpha with its owner and its decision');
is($alpha->safe_psql('postgres', q{SELECT count(*) FROM leadflow.lead WHERE source = 'bulk-late'}),
	'0', "the $in_flight-lead INSERT in flight left no lead");
is($alpha->safe_psql('postgres', q{SELECT count(*) FROM leadflow.decision d
                                    WHERE NOT EXISTS (SELECT FROM leadflow.lead l WHERE l.id = d.lead_id)}),
	'0', 'and no decision');
note("bulk INSERT: 3 x 1000 leads acknowledged and kept; one INSERT of $in_flight leads "
	  . "(and their $in_flight decisions) in flight, none of it kept");
ledger_holds($alpha, 'after failover mid bulk INSERT');
work_goes_on($alpha, 'after failover mid bulk INSERT');
rejoin($bravo, $alpha, 'after failover mid bulk INSERT');

########################################################################
# 3. A sweep on alpha, killed mid-way; the pg_cron job scheduled on alpha
#    runs the sweep on bravo after the promotion.
########################################################################
my $job_name = sweep_job_name('postgres');
my $overdue = 20000;
# assigned a day ago with a one-hour SLA: all overdue now
my $yesterday = $alpha->safe_psql('postgres', q{SELECT now() - interval '1 day'});
$alpha->safe_psql('postgres', qq{
SET leadflow.clock = '$yesterday';
INSERT INTO leadflow.lead (email, source)
SELECT 'sw' || g || '\@acct' || (g % 300) || '.test', 'swept' FROM generate_series(1, $overdue) g});
my $reassigned_before = $alpha->safe_psql('postgres',
	q{SELECT count(*) FROM leadflow.decision WHERE kind = 'reassign_sla'});
my $sweep = $alpha->background_psql('postgres', on_error_stop => 0);
$sweep->query_until(qr/started/, q{SET application_name = 'sweep';
SET leadflow.sweep_batch_size = 100000;
\echo started
SELECT * FROM leadflow.sweep();
});
wait_running($alpha, 'sweep', '%leadflow.sweep()%');
# Scheduled while that sweep runs (a pg_cron run now would only find it
# running and skip), acknowledged, so on bravo too.
$alpha->safe_psql('postgres', q{SELECT leadflow.schedule_sweep('* * * * *')});
fail_over($alpha, $bravo);
$sweep->{run}->kill_kill;
my $promoted_at = $bravo->safe_psql('postgres', 'SELECT now()');
is($bravo->safe_psql('postgres', q{SELECT count(*) FROM leadflow.decision WHERE kind = 'reassign_sla'}),
	$reassigned_before, 'the killed sweep left no reassignment behind (it is one transaction)');
is($bravo->safe_psql('postgres', q{SELECT count(*) FROM cron.job WHERE jobname = '} . $job_name . q{'}),
	'1', "the pg_cron job $job_name came over with the data");
ok( $bravo->poll_query_until('postgres', qq{
SELECT count(*) > 0 FROM cron.job_run_details r JOIN cron.job j USING (jobid)
 WHERE j.jobname = '$job_name' AND r.status = 'succeeded' AND r.start_time > '$promoted_at'}),
	'pg_cron ran the sweep on bravo after the promotion, with nobody scheduling it again');
my $by_cron = $bravo->safe_psql('postgres',
	qq{SELECT count(*) FROM leadflow.decision WHERE kind = 'reassign_sla' AND at > '$promoted_at'});
cmp_ok($by_cron, '>', 0, "the scheduled sweep on bravo reassigned $by_cron overdue leads");
ledger_holds($bravo, 'after failover mid sweep and the scheduled sweep');
$bravo->safe_psql('postgres', 'SELECT leadflow.unschedule_sweep()');
$bravo->safe_psql('postgres', 'SET leadflow.sweep_batch_size = 100000; SELECT * FROM leadflow.sweep()');
is($bravo->safe_psql('postgres', q{SELECT count(*) FROM leadflow.lead WHERE source = 'swept' AND reassignments = 1}),
	$overdue, "then every one of the $overdue overdue leads has been reassigned exactly once");
note("sweep: one sweep of $overdue overdue leads (as many reassignments, twice as many alerts) "
	  . "in flight and dropped whole; the pg_cron job then reassigned $by_cron on bravo, the rest "
	  . "the next sweep; none twice");
ledger_holds($bravo, 'after the sweeps on bravo');
rejoin($alpha, $bravo, 'after failover mid sweep');

$alpha->stop;
$bravo->stop;
done_testing();
