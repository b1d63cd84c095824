# Round-robin turns in shared memory (src/shared_turns.c) with leadflow
# preloaded.  1. The queue lock goes at pre-commit: while one router's
# commit waits (for a synchronous standby that never comes), another
# routes into the same queue without waiting for it, and takes the next
# turn.  2. The turns continue exactly after a clean restart and after a
# crash: the shared copy is gone, the first router reads member_state
# again, which has every committed turn and no rolled-back one.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LeadflowNodes;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('turns');
$node->init(allows_streaming => 1);    # synchronous replication needs WAL senders
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'leadflow'\n");
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION leadflow;
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day)
    SELECT g, 'rep' || g, 1000, 1000 FROM generate_series(1, 4) g;
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('rr', 'round_robin', false);
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'rr', g FROM generate_series(1, 4) g;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'rr');
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('st', 'round_robin', true);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('st', 1), ('st', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (0, 'st', '{"source": "st"}', 'st');
INSERT INTO leadflow.account (domain) VALUES ('same.test');
});
is($node->safe_psql('postgres', 'SHOW leadflow.shared_queues'), '64', 'leadflow.shared_queues defaults to 64');

my $n = 0;
# One lead in its own transaction (a company of its own: no duplicate, no
# shared account); its owner.
sub route_one
{
	my ($session_sql) = @_;
	$n++;
	return $node->safe_psql('postgres',
		($session_sql // '') . qq{INSERT INTO leadflow.lead (email) VALUES ('p$n\@c$n.test') RETURNING owner_id});
}

is(join(',', map { route_one() } 1 .. 3), '1,2,3', 'round robin, one lead a transaction');

# 1. A commit that waits for a synchronous standby holds its row locks but
# not the queue lock.  (Set at start: after a reload, the checkpointer may
# take it up after the commit.  The restart reads the turns from the
# table.)
$node->append_conf('postgresql.conf', "synchronous_standby_names = 'nobody'\n");
$node->restart;
my $slow = $node->background_psql('postgres', on_error_stop => 0);
$slow->query_until(qr/started/,
	"\\echo started\nINSERT INTO leadflow.lead (email) VALUES ('slow\@slow.test');\n");
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'})
  or die 'the slow commit did not wait for the standby';
my $fast = $node->background_psql('postgres', on_error_stop => 0);
$fast->query_until(qr/started/,
	"\\echo started\nSET synchronous_commit = local;\n"
	  . "INSERT INTO leadflow.lead (email) VALUES ('fast\@fast.test');\n\\echo done\n");
# Either the fast router is done, or it waits for a lock (the old code:
# the queue lock, held by the slow commit).
$node->poll_query_until('postgres',
	q{SELECT EXISTS (SELECT FROM leadflow.lead WHERE email = 'fast@fast.test')
          OR EXISTS (SELECT FROM pg_locks WHERE NOT granted)})
  or die 'neither done nor waiting';
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_locks WHERE NOT granted}),
	'0', 'a router of the queue does not wait for a commit in flight');
is($node->safe_psql('postgres', q{SELECT owner_id FROM leadflow.lead WHERE email = 'fast@fast.test'}),
	'1', 'and takes the turn after the one in flight');
$node->append_conf('postgresql.conf', "synchronous_standby_names = ''\n");
$node->reload;
$node->poll_query_until('postgres', q{SELECT EXISTS (SELECT FROM leadflow.lead WHERE email = 'slow@slow.test')})
  or die 'the slow commit did not finish';
$slow->quit;
$fast->quit;
is($node->safe_psql('postgres', q{SELECT owner_id FROM leadflow.lead WHERE email = 'slow@slow.test'}),
	'4', 'the commit in flight kept its turn');

# The same, into a sticky queue, for one account without an owner: the
# slow router makes rep 1 its owner; the fast one, though it gets the
# queue lock, waits for the account's row, then sees that owner.
$node->append_conf('postgresql.conf', "synchronous_standby_names = 'nobody'\n");
$node->restart;
$slow = $node->background_psql('postgres', on_error_stop => 0);
$slow->query_until(qr/started/,
	"\\echo started\nINSERT INTO leadflow.lead (email, source) VALUES ('a\@same.test', 'st');\n");
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'})
  or die 'the slow commit did not wait for the standby';
$fast = $node->background_psql('postgres', on_error_stop => 0);
$fast->query_until(qr/started/,
	"\\echo started\nSET synchronous_commit = local;\n"
	  . "INSERT INTO leadflow.lead (email, source) VALUES ('b\@same.test', 'st');\n");
$node->poll_query_until('postgres',
	q{SELECT EXISTS (SELECT FROM leadflow.lead WHERE email = 'b@same.test')
          OR EXISTS (SELECT FROM pg_locks WHERE NOT granted)})
  or die 'neither done nor waiting';
$node->append_conf('postgresql.conf', "synchronous_standby_names = ''\n");
$node->reload;
$node->poll_query_until('postgres', q{SELECT count(*) = 2 FROM leadflow.lead WHERE email LIKE '%\@same.test'})
  or die 'the sticky leads did not both commit';
$slow->quit;
$fast->quit;
is( $node->safe_psql(
		'postgres', q{SELECT string_agg(owner_id::text, ',' ORDER BY id) FROM leadflow.lead WHERE email LIKE '%@same.test'}),
	'1,1', 'a sticky account routed while its owner is being committed gets that owner');
is($node->safe_psql('postgres', q{SELECT owner_id FROM leadflow.account WHERE domain = 'same.test'}),
	'1', 'and the account has it');

# A turn taken and rolled back is given back, also in the table.
$node->safe_psql('postgres', q{BEGIN; INSERT INTO leadflow.lead (email) VALUES ('gone@gone.test'); ROLLBACK;});
is(route_one(), '2', 'a rolled-back turn is given back');

# 2. Restarts.
$node->restart;
is(join(',', map { route_one() } 1 .. 3), '3,4,1', 'the turns continue after a restart');
$node->stop('immediate');
$node->start;
is(join(',', map { route_one() } 1 .. 2), '2,3', 'the turns continue after a crash');
is( $node->safe_psql(
		'postgres', q{SELECT coalesce(string_agg(kind || ': ' || detail, E'\n'), '')
                        FROM leadflow.check_invariants()}),
	'', 'leadflow.check_invariants() finds nothing');

# The same queue without shared turns: the same rotation.
$node->append_conf('postgresql.conf', "leadflow.shared_queues = 0\n");
$node->restart;
is(join(',', map { route_one() } 1 .. 3), '4,1,2', 'without shared turns, the same rotation');

$node->stop;
done_testing();
