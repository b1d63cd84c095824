# Reports on a hot standby.  A primary and a synchronous streaming
# standby, pg_cron and leadflow preloaded on both.  On the standby every
# reporting view and read-only function (backtest included) gives what
# it gives on the primary, to a superuser, a manager and a rep (row-level security as on
# the primary); every function that writes fails at once with 25006 and a
# hint naming the primary (its address only for roles that may see it);
# and the per-backend caches of a standby session follow configuration
# changes replayed from the primary.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LeadflowNodes;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = new_node('primary');
$primary->start;
my $standby = new_standby($primary, 'standby');
make_sync($primary, $standby);

my $clock = '2026-03-11 15:00:00+00';
$primary->safe_psql('postgres', qq{
CREATE EXTENSION pg_cron;
CREATE EXTENSION leadflow;
CREATE ROLE ana LOGIN;
CREATE ROLE ben LOGIN;
CREATE ROLE boss LOGIN;
CREATE ROLE watcher LOGIN;
GRANT leadflow_rep TO ana, ben;
GRANT leadflow_manager TO boss, watcher;
GRANT pg_read_all_stats TO watcher;
});
fill_sales_floor($primary, 'postgres');
$primary->safe_psql('postgres', qq{
UPDATE leadflow.rep SET login = 'ana' WHERE id = 2;
UPDATE leadflow.rep SET login = 'ben' WHERE id = 3;
-- two leads not routed yet (401 from a partner, 402 from the web)
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email, source) VALUES ('wait1\@new1.test', 'partner'), ('wait2\@new2.test', 'web');
ALTER DATABASE postgres SET leadflow.clock = '$clock';
});
$primary->wait_for_catchup($standby, 'replay');
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
ok( $primary->safe_psql('postgres',
		q{SELECT count(*) > 0 FROM leadflow.decision WHERE kind = 'reassign_sla'}) eq 't'
	  && $primary->safe_psql('postgres', q{SELECT count(*) > 0 FROM leadflow.alert}) eq 't',
	'the primary has swept leads and alerts to report on');

# psql as ROLE on NODE: stdout and stderr together, errors with their
# SQLSTATE (VERBOSITY verbose, without the source location).  Every
# session of the database runs at the same fixed clock.
sub run_as
{
	my ($node, $role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ '-U', $role ]);
	$err =~ s/^LOCATION:.*\n?//mg;
	$err =~ s/^psql:<stdin>:\d+: //mg;
	return "$out\n$err";
}

# What must read the same on the standby as on the primary, per role.
my @read_checks = (
	[ 'work_list',          q{SELECT w::text FROM leadflow.work_list w ORDER BY 1} ],
	[ 'rep_pipeline',       q{SELECT v::text FROM leadflow.rep_pipeline v ORDER BY 1} ],
	[ 'source_performance', q{SELECT v::text FROM leadflow.source_performance v ORDER BY 1} ],
	[ 'funnel',             q{SELECT v::text FROM leadflow.funnel v ORDER BY 1} ],
	[ 'speed_to_lead',      q{SELECT v::text FROM leadflow.speed_to_lead v ORDER BY 1} ],
	[ 'overdue',            q{SELECT v::text FROM leadflow.overdue v ORDER BY 1} ],
	[ 'backlog',            q{SELECT v::text FROM leadflow.backlog v ORDER BY 1} ],
	[ 'fairness',           q{SELECT v::text FROM leadflow.fairness v ORDER BY 1} ],
	[ 'capacity',           q{SELECT v::text FROM leadflow.capacity v ORDER BY 1} ],
	[ 'reject_reasons',     q{SELECT v::text FROM leadflow.reject_reasons v ORDER BY 1} ],
	[ 'duplicate_rates',    q{SELECT v::text FROM leadflow.duplicate_rates v ORDER BY 1} ],
	[ 'leads_needed',       q{SELECT * FROM leadflow.leads_needed(40)} ],
	[ 'explain',            q{SELECT e::text FROM leadflow.explain(402) e} ],
	[ 'explain (owned)',    q{SELECT e::text FROM leadflow.explain(3) e} ],
	[ 'explain_score',      q{SELECT e::text FROM leadflow.explain_score(3) e} ],
	[ 'current_score',      q{SELECT leadflow.current_score(3), leadflow.current_score(6)} ],
	[ 'predict',            q{SELECT leadflow.predict('{"source": "web", "size": 2}')} ],
	[ 'backtest',           q{SELECT b::text FROM leadflow.backtest('2026-03-01', '2026-04-01') b} ],
	[ 'backtest_leads',     q{SELECT b::text FROM leadflow.backtest_leads('2026-03-01', '2026-04-01') b} ],
	[ 'check_invariants',   q{SELECT count(*) FROM leadflow.check_invariants()} ],
	[ 'check_counters',     q{SELECT count(*) FROM leadflow.check_counters()} ],
	[ 'qualification_missing', q{SELECT * FROM leadflow.qualification_missing(3)} ],
	[ 'fit_score',          q{SELECT leadflow.fit_score('{"source": "web"}')} ],
	[ 'leads',              q{SELECT id, owner_id, stage, score FROM leadflow.lead ORDER BY id} ],
	[ 'touches',            q{SELECT id, lead_id, outcome FROM leadflow.touch ORDER BY id} ],
	[ 'ledger',             q{SELECT id, lead_id, kind, to_rep FROM leadflow.decision ORDER BY id} ],
	[ 'alerts',             q{SELECT id, kind, lead_id, rep_id FROM leadflow.alert ORDER BY id} ],
	# the checks and their verdicts (details carry ages, which move on
	# between the two reads)
	[ 'health',           q{SELECT "check" || ' ' || status FROM leadflow.health() ORDER BY 1} ],
);

for my $role ('postgres', 'boss', 'ana')
{
	for my $check (@read_checks)
	{
		my ($what, $sql) = @$check;
		my $on_primary = run_as($primary, $role, $sql);
		my $on_standby = run_as($standby, $role, $sql);
		is($on_standby, $on_primary, "$what as $role: the standby reads what the primary does");
		unlike($on_standby, qr/ERROR/, "$what: a superuser reads it without error")
		  if $role eq 'postgres';
	}
}

# A backtest writes nothing, so a standby replays history too.
like(run_as($standby, 'boss',
		q{SELECT count(*) > 0 AND bool_and(same) FROM leadflow.backtest_leads('2026-03-01', '2026-04-01')}),
	qr/^t\n/, 'a manager backtests the month on the standby, and it is the ledger');

# Row-level security holds on the standby: Ana sees her leads only.
my $ana_leads = $primary->safe_psql('postgres',
	q{SELECT count(*) FROM leadflow.lead WHERE owner_id = 2 AND stage IN ('new', 'working')});
cmp_ok($ana_leads, '>', 0, 'Ana owns open leads');
is(run_as($standby, 'ana', q{SELECT count(*) FROM leadflow.work_list}), "$ana_leads\n",
	"Ana's work list on the standby has her $ana_leads open leads and no one else's");
like(run_as($standby, 'ana', q{SELECT count(DISTINCT owner_id) FROM leadflow.lead}), qr/^1\n/,
	'the leads Ana reads on the standby are all hers');
like(run_as($standby, 'ana', q{SELECT count(*) FROM leadflow.rep_load}),
	qr/42501: permission denied for table rep_load/, 'and rep_load stays closed to her there');

# Every function that writes is refused on the standby at once: SQLSTATE
# 25006, the function named, a hint naming the primary, and no CONTEXT
# (nothing of the function ran).
my $ana_lead = $primary->safe_psql('postgres',
	q{SELECT min(id) FROM leadflow.lead WHERE owner_id = 2 AND stage IN ('new', 'working')});
my $alert = $primary->safe_psql('postgres', 'SELECT min(id) FROM leadflow.alert');
my @writers = (
	[ 'route',             q{SELECT leadflow.route(401)} ],
	[ 'route_pending',     q{SELECT leadflow.route_pending()} ],
	[ 'sweep',             q{SELECT * FROM leadflow.sweep()} ],
	[ 'assign',            qq{SELECT leadflow.assign($ana_lead, 3, 'customer asked')} ],
	[ 'log_touch',         qq{SELECT leadflow.log_touch($ana_lead, 'call', 'not_reached')} ],
	[ 'reopen',            q{SELECT leadflow.reopen(2, 'second try')} ],
	[ 'merge',             q{SELECT leadflow.merge(170, 171)} ],
	[ 'rescore',           q{SELECT leadflow.rescore(3)} ],
	[ 'acknowledge_alert', qq{SELECT leadflow.acknowledge_alert($alert)} ],
	[ 'train',             q{SELECT * FROM leadflow.train(ARRAY['source'])} ],
	[ 'schedule_sweep',    q{SELECT leadflow.schedule_sweep()} ],
	[ 'unschedule_sweep',  q{SELECT leadflow.unschedule_sweep()} ],);
my $primary_host = $primary->host;
my $primary_port = $primary->port;
for my $writer (@writers)
{
	my ($name, $sql) = @$writer;
	for my $role ('postgres', 'watcher', 'boss')
	{
		next if $role ne 'postgres' && $name =~ /^(train|schedule_sweep|unschedule_sweep)$/;
		my $result = run_as($standby, $role, $sql);
		like($result, qr/ERROR:  25006: leadflow\.\Q$name\E\(\) cannot run on a hot standby/,
			"$name as $role on the standby: 25006, the function named");
		unlike($result, qr/CONTEXT:/, "$name as $role: refused before any of it ran");
		if ($role eq 'boss')
		{
			like($result, qr/HINT:  Run it on the primary server\.\n/,
				"$name as $role: the hint says where, but not the address ($role may not read pg_stat_wal_receiver)");
		}
		else
		{
			like($result,
				qr/HINT:  Run it on the primary server; this standby receives its WAL from host \Q$primary_host\E port $primary_port\./,
				"$name as $role: the hint names the primary's address");
		}
	}
}
like(run_as($standby, 'ana', qq{SELECT leadflow.log_touch($ana_lead, 'call', 'not_reached')}),
	qr/ERROR:  25006: leadflow\.log_touch\(\) cannot run on a hot standby.*HINT:  Run it on the primary server\.\n/s,
	'a rep logging a touch on the standby is refused too, without the address');
like(run_as($standby, 'postgres', q{INSERT INTO leadflow.lead (email) VALUES ('new@x.test')}),
	qr/ERROR:  25006: cannot execute INSERT in a read-only transaction/,
	'a plain INSERT of a lead is refused by PostgreSQL itself');
is_deeply(leadflow_digest($standby, 'postgres'), leadflow_digest($primary, 'postgres'),
	'after all that the standby holds exactly what the primary does');

# The caches of a standby session follow the configuration replayed from
# the primary: routing configuration (a rep's cap, a rule), scoring
# rules, and the model.
my $session = $standby->background_psql('postgres');
my $cached = sub {
	return $session->query_safe(q{
SELECT (SELECT max_open FROM leadflow.explain(402) WHERE rep_id = 2)
       || ' ' || (SELECT string_agg(rep_id::text, ',' ORDER BY rep_id) FROM leadflow.explain(401))
       || ' ' || leadflow.fit_score('{"source": "web"}')
       || ' ' || leadflow.current_score(6)
       || ' ' || round(leadflow.predict('{"source": "web", "size": 2}')::numeric, 6)});
};
my $before = $cached->();
my $predicted_before = (split / /, $before)[4];
like($before, qr/^1000 5,6 10 \d+ [0-9.]+$/,
	'a standby session has loaded the configuration, rules and model');
$primary->safe_psql('postgres', q{
UPDATE leadflow.rep SET max_open = 777 WHERE id = 2;
UPDATE leadflow.rule SET queue = 'inside' WHERE id = 1;
UPDATE leadflow.scoring_rule SET points = 33 WHERE name = 'web';
SET leadflow.clock = '2026-03-11 14:00:00+00';
SELECT * FROM leadflow.train(ARRAY['size']);
});
$primary->wait_for_catchup($standby, 'replay');
my $after = $cached->();
my ($max_open, $members, $fit, $score, $predicted) = split / /, $after;
is($max_open, '777', "the standby session's explain() sees the cap raised on the primary");
is($members, '2,3,4', 'and the changed rule (partners now go to the inside queue)');
is($fit, '33', 'its scoring rules follow the primary');
is($predicted,
	$primary->safe_psql('postgres', q{SELECT round(leadflow.predict('{"source": "web", "size": 2}')::numeric, 6)}),
	'and so does its model: the prediction is the new one');
isnt($predicted, $predicted_before, '(which differs from the cached one)');
$session->quit;

$standby->stop;
$primary->stop;
done_testing();
