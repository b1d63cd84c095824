/*
 * shared_turns.c
 *	  Round-robin queues' turns in shared memory, so that the next router
 *	  of a queue sees the previous one's turn before that one has
 *	  committed, and the queue's routing lock can go at pre-commit
 *	  (routing.c) instead of after the commit's WAL flush.
 *
 * Only when leadflow is in shared_preload_libraries and
 * leadflow.shared_queues is above 0: a fixed-size hash of (database,
 * queue) -> the members' turns, as leadflow.member_state has them.  An
 * entry is loaded from member_state by the first router of the queue
 * (strategy.c), so after a restart too, and changed by routers while
 * they hold the queue's routing lock; one LWLock guards the hash for the
 * few instructions of a read or a change.  A full hash, or a queue with
 * more than SHARED_TURNS_MAX_MEMBERS member rows, is not an error: that
 * queue keeps its lock to commit and its turns in the table only.
 *
 * Generation.  Every change of an entry gives it a new number from one
 * counter for the whole hash (never reused, not even by an entry made
 * again under the same name), so a transaction that aborts after it let
 * the queue lock go can tell whether anybody took a turn since: if not,
 * it puts its turns back (shared_turns_undo); if so, they stay given out,
 * a skipped turn (docs/routing.md, "Concurrency").
 *
 * member_state stays the record that survives a restart: routing writes
 * it at statement end as before, under the queue lock, in the order the
 * turns were taken, so a restart loads exactly the committed turns.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"

#include "shared_turns.h"
#include "guc.h"

#define TRANCHE_NAME "leadflow turns"

typedef struct SharedQueueKey
{
	Oid			dbid;
	char		name[NAMEDATALEN];
} SharedQueueKey;

typedef struct SharedQueue
{
	SharedQueueKey key;
	Oid			relid;			/* leadflow.member_state it was read from */
	int64		version;		/* the configuration version it was read at */
	uint64		generation;		/* of its last change */
	int			nmembers;
	SharedTurn	members[SHARED_TURNS_MAX_MEMBERS];	/* by rep_id */
} SharedQueue;

static HTAB *queues = NULL;
static LWLock *lock = NULL;
static uint64 *counter = NULL;	/* the last generation given out */
static bool preloaded = false;
static shmem_request_hook_type prev_request_hook = NULL;
static shmem_startup_hook_type prev_startup_hook = NULL;

static void
request_shmem(void)
{
	if (prev_request_hook)
		prev_request_hook();
	RequestAddinShmemSpace(add_size(hash_estimate_size(leadflow_shared_queues,
													   sizeof(SharedQueue)),
									sizeof(uint64)));
	RequestNamedLWLockTranche(TRANCHE_NAME, 1);
}

static void
startup_shmem(void)
{
	HASHCTL		ctl;
	bool		found;

	if (prev_startup_hook)
		prev_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(SharedQueueKey);
	ctl.entrysize = sizeof(SharedQueue);
	queues = ShmemInitHash(TRANCHE_NAME, leadflow_shared_queues, leadflow_shared_queues,
						   &ctl, HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	counter = ShmemInitStruct(TRANCHE_NAME " generation", sizeof(uint64), &found);
	if (!found)
		*counter = 0;
	lock = &(GetNamedLWLockTranche(TRANCHE_NAME))->lock;
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init: the hooks, when the library is being preloaded. */
void
shared_turns_init(void)
{
	if (!process_shared_preload_libraries_in_progress || leadflow_shared_queues == 0)
		return;
	preloaded = true;
	prev_request_hook = shmem_request_hook;
	shmem_request_hook = request_shmem;
	prev_startup_hook = shmem_startup_hook;
	shmem_startup_hook = startup_shmem;
}

/* Whether turns may be shared here: preloaded, and not a standby. */
bool
shared_turns_enabled(void)
{
	return preloaded && queues != NULL && !RecoveryInProgress();
}

static SharedQueue *
lookup(const char *queue, HASHACTION action, bool *found)
{
	SharedQueueKey key;

	memset(&key, 0, sizeof(key));
	key.dbid = MyDatabaseId;
	strlcpy(key.name, queue, NAMEDATALEN);
	return hash_search(queues, &key, action, found);
}

/* The member's slot in the entry, added in rep_id order; NULL when full. */
static SharedTurn *
member_slot(SharedQueue *e, int32 rep_id)
{
	int			lo = 0,
				hi = e->nmembers;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (e->members[mid].rep_id < rep_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->nmembers && e->members[lo].rep_id == rep_id)
		return &e->members[lo];
	if (e->nmembers == SHARED_TURNS_MAX_MEMBERS)
		return NULL;
	memmove(&e->members[lo + 1], &e->members[lo], sizeof(SharedTurn) * (e->nmembers - lo));
	e->nmembers++;
	memset(&e->members[lo], 0, sizeof(SharedTurn));
	e->members[lo].rep_id = rep_id;
	return &e->members[lo];
}

/*
 * Copy the queue's members into out[SHARED_TURNS_MAX_MEMBERS] (ordered by
 * rep_id) and its generation into *generation; -1 when the queue is not
 * there, or was read from another member_state (the extension was made
 * again) or at an older configuration than version.
 */
int
shared_turns_read(const char *queue, Oid relid, int64 version, SharedTurn *out,
				  uint64 *generation)
{
	SharedQueue *e;
	int			n = -1;

	LWLockAcquire(lock, LW_SHARED);
	e = lookup(queue, HASH_FIND, NULL);
	if (e != NULL && e->relid == relid && e->version >= version)
	{
		n = e->nmembers;
		memcpy(out, e->members, sizeof(SharedTurn) * n);
		*generation = e->generation;
	}
	LWLockRelease(lock);
	return n;
}

/*
 * Make (or replace) the queue's entry from members[0..n) as read from
 * member_state, ordered by rep_id; false when it does not fit.  The
 * caller holds the queue's routing lock.
 */
bool
shared_turns_store(const char *queue, Oid relid, int64 version, const SharedTurn *members,
				   int n, uint64 *generation)
{
	SharedQueue *e;
	bool		found;

	if (n > SHARED_TURNS_MAX_MEMBERS)
		return false;
	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = lookup(queue, HASH_ENTER_NULL, &found);
	if (e != NULL)
	{
		e->relid = relid;
		e->version = version;
		e->nmembers = n;
		memcpy(e->members, members, sizeof(SharedTurn) * n);
		e->generation = *generation = ++*counter;
	}
	LWLockRelease(lock);
	return e != NULL;
}

/*
 * Set one member's turn state; false when the queue is gone or full.
 * The caller holds the queue's routing lock.
 */
bool
shared_turns_set(const char *queue, const SharedTurn *turn, uint64 *generation)
{
	SharedQueue *e;
	SharedTurn *slot = NULL;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = lookup(queue, HASH_FIND, NULL);
	if (e != NULL)
		slot = member_slot(e, turn->rep_id);
	if (slot != NULL)
	{
		*slot = *turn;
		e->generation = *generation = ++*counter;
	}
	LWLockRelease(lock);
	return slot != NULL;
}

/*
 * Put members' states back (prev[0..n), applied in that order) if the
 * queue's generation is still expected, that is, nobody changed it since;
 * the new generation, or 0 when nothing was put back.  Called while
 * aborting too: it does not fail.
 */
uint64
shared_turns_undo(const char *queue, const SharedTurn *prev, int n, uint64 expected)
{
	SharedQueue *e;
	uint64		result = 0;
	int			i;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = lookup(queue, HASH_FIND, NULL);
	if (e != NULL && e->generation == expected)
	{
		for (i = 0; i < n; i++)
		{
			SharedTurn *slot = member_slot(e, prev[i].rep_id);

			if (slot != NULL)
				*slot = prev[i];
		}
		e->generation = result = ++*counter;
	}
	LWLockRelease(lock);
	return result;
}

/*
 * Drop the queue's entry (its next router reads member_state again), if
 * its generation is expected; 0 drops it whatever its generation.
 */
void
shared_turns_forget(const char *queue, uint64 expected)
{
	SharedQueue *e;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = lookup(queue, HASH_FIND, NULL);
	if (e != NULL && (expected == 0 || e->generation == expected))
		(void) hash_search(queues, &e->key, HASH_REMOVE, NULL);
	LWLockRelease(lock);
}

/* Drop every entry of this database: its member_state was emptied. */
void
shared_turns_forget_database(void)
{
	HASH_SEQ_STATUS status;
	SharedQueue *e;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	hash_seq_init(&status, queues);
	while ((e = hash_seq_search(&status)) != NULL)
		if (e->key.dbid == MyDatabaseId)
			(void) hash_search(queues, &e->key, HASH_REMOVE, NULL);
	LWLockRelease(lock);
}
