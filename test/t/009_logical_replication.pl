# Logical replication of leadflow's tables, to three subscriber databases:
#  - analytics: no leadflow; its schema made by leadflow.analytics_ddl()
#    (leadflow's C types as text, candidates as jsonb); the rows arrive
#    and the report views run there and give what they give on the
#    publisher.
#  - crm_copy: leadflow installed, every table subscribed.  The apply
#    worker runs with session_replication_role = replica, so leadflow's
#    ordinary triggers do not fire: rows are kept as given -- no
#    re-routing, no second decision, counters as the publisher counted --
#    and check_invariants() holds.  The cache invalidation triggers fire
#    (ALWAYS), so the copy's caches follow the configuration it receives.
#  - leads_only: leadflow installed, only configuration and leads
#    subscribed: the counters and the ledger stay empty there, which
#    check_invariants() reports.  (Subscribe to all of leadflow or none.)
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LeadflowNodes;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = new_node('publisher', logical => 1);
$pub->start;
# leadflow's library is not preloaded there: the analytics database never
# loads it, crm_copy loads it when its triggers first run.
my $sub = new_node('subscriber');
$sub->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'");
$sub->start;

$pub->safe_psql('postgres', 'CREATE DATABASE crm');
$pub->safe_psql('crm', 'CREATE EXTENSION leadflow');
fill_sales_floor($pub, 'crm');
$pub->safe_psql('crm', q{
CREATE PUBLICATION leadflow_all FOR TABLES IN SCHEMA leadflow;
CREATE PUBLICATION leadflow_config_and_leads FOR TABLE
    leadflow.rep, leadflow.queue, leadflow.queue_member, leadflow.rule, leadflow.lead;
});
my $crm = $pub->connstr . ' dbname=crm';

# The subscribers.  On those with leadflow, CREATE EXTENSION seeded the
# default queue and the built-in free-mail domains and calling codes,
# which the publisher's rows bring again: they go first (without their
# triggers: the default queue cannot otherwise be removed).
my $ddl = $pub->safe_psql('crm', 'SELECT leadflow.analytics_ddl()');
for my $db ('analytics', 'crm_copy', 'leads_only')
{
	$sub->safe_psql('postgres', "CREATE DATABASE $db");
}
$sub->safe_psql('analytics', $ddl);
for my $db ('crm_copy', 'leads_only')
{
	$sub->safe_psql($db, q{
CREATE EXTENSION leadflow;
SET session_replication_role = replica;
DELETE FROM leadflow.queue;
DELETE FROM leadflow.freemail_domain;
DELETE FROM leadflow.country_calling_code;
});
}
$sub->safe_psql('analytics', "CREATE SUBSCRIPTION analytics CONNECTION '$crm' PUBLICATION leadflow_all");
$sub->safe_psql('crm_copy', "CREATE SUBSCRIPTION crm_copy CONNECTION '$crm' PUBLICATION leadflow_all");
$sub->safe_psql('leads_only',
	"CREATE SUBSCRIPTION leads_only CONNECTION '$crm' PUBLICATION leadflow_config_and_leads");
$sub->wait_for_subscription_sync($pub, $_, $_) for ('analytics', 'crm_copy', 'leads_only');

my $is_leadflow = $sub->safe_psql('analytics', q{SELECT count(*) FROM pg_extension WHERE extname = 'leadflow'});
is($is_leadflow, '0', 'the analytics database has no leadflow');
is_deeply(leadflow_digest($sub, 'analytics'), leadflow_digest($pub, 'crm'),
	'analytics received every row of every leadflow table (C types as their text)');
is_deeply(leadflow_digest($sub, 'crm_copy'), leadflow_digest($pub, 'crm'),
	'crm_copy holds exactly the publisher\'s rows: counters, ledger and alerts as given');

# The reports, on the publisher and in analytics.  Minutes since "now"
# move between two queries; the rest must agree.
my @reports = (
	[ 'source_performance', '*' ],
	[ 'funnel',             '*' ],
	[ 'reject_reasons',     '*' ],
	[ 'fairness',           '*' ],
	[ 'duplicate_rates',    '*' ],
	[ 'capacity',           '*' ],
	[ 'rep_pipeline', 'rep_id, open_leads, max_open, new_today, overdue, sla_breached, won, closed, conversion_rate' ],
	[ 'overdue',      'lead_id, rep, queue, stage, next_touch_at, sla_breached, reassignments' ],
	[ 'backlog',      'lead_id, queue, created_at, reassignments, last_decision' ],);
for my $report (@reports)
{
	my ($view, $columns) = @$report;
	my $sql = "SELECT t::text FROM (SELECT $columns FROM leadflow.$view) t ORDER BY 1";
	my $there = $sub->safe_psql('analytics', $sql);
	isnt($there, '', "$view has rows in analytics") unless $view eq 'backlog';
	is($there, $pub->safe_psql('crm', $sql), "$view in analytics gives what it gives on the publisher");
}
is($sub->safe_psql('analytics', 'SELECT * FROM leadflow.leads_needed(10)'),
	$pub->safe_psql('crm', 'SELECT * FROM leadflow.leads_needed(10)'), 'and so does leads_needed');
is( $sub->safe_psql('analytics',
		q{SELECT count(*) FROM leadflow.decision, jsonb_array_elements(candidates) c WHERE (c ->> 'chosen')::boolean}),
	$pub->safe_psql('crm',
		q{SELECT count(*) FROM leadflow.decision, jsonb_array_elements(candidates) c WHERE (c ->> 'chosen')::boolean}),
	'the ledger\'s candidates read as jsonb there');
invariants_hold($sub, 'crm_copy', 'crm_copy');

# A session in crm_copy caches the routing configuration; the publisher
# raises a cap; the session's explain() sees it.
my $session = $sub->background_psql('crm_copy');
my $cap_of_ana = q{SELECT max_open FROM leadflow.explain(5) WHERE rep_id = 2};
is($session->query_safe($cap_of_ana), '1000', 'a crm_copy session has the configuration cached');

# More work on the publisher: a cap raised, new leads (one of them not
# routed, with route_on_insert off), touches, a sweep.
$pub->safe_psql('crm', q{
UPDATE leadflow.rep SET max_open = 1234 WHERE id = 2;
SET leadflow.clock = '2026-03-12 10:00:00+00';
INSERT INTO leadflow.lead (email, source) SELECT 'n' || g || '@new.test', 'web' FROM generate_series(1, 50) g;
SELECT count(*) FROM (SELECT leadflow.log_touch(id, 'email', 'connected') FROM leadflow.lead
                       WHERE id BETWEEN 200 AND 230 AND stage IN ('new', 'working')) t;
SET leadflow.clock = '2026-03-13 12:00:00+00';
SELECT * FROM leadflow.sweep();
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email, source) VALUES ('unrouted@new.test', 'web');
});
$pub->wait_for_catchup($_) for ('analytics', 'crm_copy', 'leads_only');

is($session->query_safe($cap_of_ana), '1234',
	"the crm_copy session's cache followed the cap replicated from the publisher");
$session->quit;
is_deeply(leadflow_digest($sub, 'analytics'), leadflow_digest($pub, 'crm'), 'analytics follows the publisher');
is_deeply(leadflow_digest($sub, 'crm_copy'), leadflow_digest($pub, 'crm'),
	'crm_copy follows it row for row: no lead re-routed, no second decision, no counter counted twice');
is( $sub->safe_psql('crm_copy',
		q{SELECT coalesce(owner_id::text, 'none') || ' ' || coalesce(queue, 'none') || ' '
                 || (SELECT count(*) FROM leadflow.decision d WHERE d.lead_id = l.id)
            FROM leadflow.lead l WHERE email = 'unrouted@new.test'}),
	'none none 0', 'a lead that arrived without an owner was not routed by crm_copy\'s trigger');
invariants_hold($sub, 'crm_copy', 'crm_copy after more work');

# Configuration and leads without the counters and the ledger.
is( $sub->safe_psql('leads_only', q{SELECT string_agg(id || ':' || coalesce(owner_id::text, '-'), ',' ORDER BY id)
                                      FROM leadflow.lead}),
	$pub->safe_psql('crm', q{SELECT string_agg(id || ':' || coalesce(owner_id::text, '-'), ',' ORDER BY id)
                               FROM leadflow.lead}),
	'leads_only has every lead with the owner the publisher gave it');
is($sub->safe_psql('leads_only', q{SELECT count(*) FROM leadflow.decision}), '0', 'but no ledger');
is($sub->safe_psql('leads_only', q{SELECT count(*) FROM leadflow.rep_load WHERE open_count > 0}),
	'0', 'and no counters (replicated reps did not even get counter rows)');
is( $sub->safe_psql('leads_only',
		q{SELECT string_agg(DISTINCT kind, ',' ORDER BY kind) FROM leadflow.check_invariants()
           WHERE kind IN ('open_count', 'ledger_owner')}),
	'ledger_owner,open_count', 'which check_invariants() reports: subscribe to all of leadflow, or none');

$sub->stop;
$pub->stop;
done_testing();
