# Concurrent writers against caps.
#
# 8 reps with 116 seats in all are members of two queues (round robin and
# weighted), so claims race both under one queue's lock and across queues.
# Phase 1: 8 pgbench clients insert 480 leads; exactly 116 get an owner,
# the rest wait in the backlog, and every lead has exactly one decision.
# Phase 2: inserts, closes and backlog draining run together; afterwards
# the counters equal the leads, no rep is over a cap, no lead was assigned
# twice, and once drained nothing is stranded while a seat is free.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('stress');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'leadflow'
max_connections = 40
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION leadflow;
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day)
    SELECT g, 'rep' || g, 10 + g, 100000 FROM generate_series(1, 8) g;
INSERT INTO leadflow.queue (name, strategy, sticky_account)
    VALUES ('qa', 'round_robin', false), ('qb', 'weighted', false);
INSERT INTO leadflow.queue_member (queue, rep_id, weight)
    SELECT q, g, g FROM generate_series(1, 8) g, unnest(ARRAY['qa', 'qb']) q;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'a', '{"campaign": "a"}', 'qa'),
    (2, 'b', '{"campaign": "b"}', 'qb');
});

my $seats = $node->safe_psql('postgres', 'SELECT sum(max_open) FROM leadflow.rep');
is($seats, '116', 'the reps have 116 seats');

# Leads from 40 domains, so that account creation races too.
my $insert = q{
\set r random(0, 1)
\set d random(1, 40)
INSERT INTO leadflow.lead (email, campaign)
    VALUES ('p' || :client_id || '-' || random() || '@d' || :d || '.test',
            CASE WHEN :r = 0 THEN 'a' ELSE 'b' END);
};

$node->pgbench('-n -c 8 -j 4 -t 60', 0, [qr{processed: 480/480}], [qr{^$}],
	'phase 1: 8 clients insert 480 leads', { 'insert' => $insert });

my $q = sub { $node->safe_psql('postgres', shift) };

is($q->(q{SELECT count(*) FROM leadflow.lead}), '480', '480 leads');
is($q->(q{SELECT count(*) FROM leadflow.lead WHERE owner_id IS NOT NULL}),
	'116', 'exactly 116 leads got an owner: every seat, no more');
is($q->(q{SELECT count(*) FROM leadflow.lead WHERE owner_id IS NULL AND stage = 'new'}),
	'364', 'the other 364 wait in the backlog');
is($q->(q{SELECT count(*) FROM leadflow.check_counters()}), '0',
	'counters equal the leads');
is($q->(q{SELECT count(*) FROM leadflow.rep r JOIN leadflow.rep_load l ON l.rep_id = r.id
           WHERE l.open_count <> r.max_open}), '0', 'every rep is exactly full');
is($q->(q{SELECT count(*) FROM leadflow.decision}), '480', 'one decision per lead');
is($q->(q{SELECT count(*) FROM leadflow.decision WHERE kind = 'assign'}), '116',
	'116 assign decisions');
is($q->(q{SELECT count(*) FROM leadflow.lead l WHERE owner_id IS NOT NULL AND NOT EXISTS
           (SELECT FROM leadflow.decision d WHERE d.lead_id = l.id AND d.kind = 'assign'
             AND d.to_rep = l.owner_id)}), '0', 'every owner has its assign decision');
is($q->(q{SELECT count(*) FROM leadflow.alert WHERE kind = 'backlog'}), '364',
	'one backlog alert per waiting lead');

# Phase 2: a mix.  Closing a lead frees a seat that route_pending (or the
# next insert) takes.
my $mixed = q{
\set op random(1, 10)
\set d random(1, 40)
\if :op <= 6
INSERT INTO leadflow.lead (email, campaign)
    VALUES ('m' || :client_id || '-' || random() || '@d' || :d || '.test',
            CASE WHEN :op % 2 = 0 THEN 'a' ELSE 'b' END);
\elif :op <= 8
UPDATE leadflow.lead SET stage = 'rejected', reject_reason = 'stress'
 WHERE id = (SELECT id FROM leadflow.lead
              WHERE owner_id IS NOT NULL AND stage = 'new'
              ORDER BY id LIMIT 1 OFFSET :client_id FOR UPDATE SKIP LOCKED);
\else
SELECT leadflow.route_pending(3);
\endif
};

$node->pgbench('-n -c 8 -j 4 -t 100', 0, [qr{processed: 800/800}], [qr{^$}],
	'phase 2: 8 clients insert, close and drain the backlog', { 'mixed' => $mixed });

is($q->(q{SELECT count(*) FROM leadflow.check_counters()}), '0',
	'counters equal the leads after the mix');
is($q->(q{SELECT count(*) FROM leadflow.rep r JOIN leadflow.rep_load l ON l.rep_id = r.id
           WHERE l.open_count > r.max_open}), '0', 'no rep over its cap');
is($q->(q{SELECT count(*) FROM (SELECT lead_id FROM leadflow.decision
           WHERE kind = 'assign' GROUP BY lead_id HAVING count(*) > 1) x}), '0',
	'no lead assigned twice');
is($q->(q{SELECT count(*) FROM leadflow.lead l WHERE NOT EXISTS
           (SELECT FROM leadflow.decision d WHERE d.lead_id = l.id)}), '0',
	'every lead has a decision');

# Drain what is left: afterwards either nothing waits or every seat is taken.
$q->(q{SELECT leadflow.route_pending(100000)});
is($q->(q{SELECT (SELECT count(*) FROM leadflow.lead WHERE owner_id IS NULL AND stage = 'new') = 0
              OR (SELECT bool_and(l.open_count = r.max_open) FROM leadflow.rep r
                   JOIN leadflow.rep_load l ON l.rep_id = r.id)}), 't',
	'nothing stranded while a seat is free');
is($q->(q{SELECT count(*) FROM leadflow.check_counters()}), '0',
	'counters equal the leads after draining');

my $summary = $q->(q{SELECT count(*) || ' leads, ' ||
    count(*) FILTER (WHERE owner_id IS NOT NULL AND stage = 'new') || ' owned open, ' ||
    count(*) FILTER (WHERE owner_id IS NULL AND stage = 'new') || ' waiting, ' ||
    count(*) FILTER (WHERE stage = 'rejected') || ' closed'
    FROM leadflow.lead});
note("after the mix: $summary");

$node->stop;
done_testing();
