/*
 * index_probe.h
 *	  Reading the rows of a leadflow table whose key column equals a value,
 *	  straight from its btree index, without SPI (index_probe.c).
 */
#ifndef LEADFLOW_INDEX_PROBE_H
#define LEADFLOW_INDEX_PROBE_H

#include "postgres.h"

#include "executor/tuptable.h"

/* Most columns a probe reads of its rows. */
#define INDEX_PROBE_MAX_COLUMNS 8

/*
 * One look-up: the table (in schema leadflow), its key column, and the
 * columns the caller reads.  Declare it static with the first three
 * fields set; the rest is filled on first use and forgotten when the
 * table's definition changes.  columns[i] is read from a row as
 * attnums[i], InvalidAttrNumber when the table has no such column (a
 * schema before 1.2).
 */
typedef struct IndexProbe
{
	const char *relname;
	const char *key;
	const char *columns[INDEX_PROBE_MAX_COLUMNS];

	bool		valid;
	bool		registered;
	Oid			relid;
	Oid			indexid;		/* InvalidOid: no usable index, the table is scanned */
	Oid			collation;		/* the key's, as the column compares it */
	RegProcedure eqproc;		/* the key type's btree equality */
	AttrNumber	keyattnum;
	AttrNumber	attnums[INDEX_PROBE_MAX_COLUMNS];
} IndexProbe;

/* Called with each row found; return false to stop the scan. */
typedef bool (*IndexProbeRow) (const IndexProbe *probe, TupleTableSlot *slot, void *arg);

/*
 * Call row for each row whose key equals key (never NULL), as an SPI
 * statement run with read_only = false would see them: after a command
 * counter increment, under a fresh snapshot.  Returns false, having done
 * nothing, when the table does not exist.
 */
extern bool index_probe(IndexProbe *probe, Datum key, IndexProbeRow row, void *arg);

/* The same for each of nkeys distinct keys in turn, under one snapshot. */
extern bool index_probe_keys(IndexProbe *probe, const Datum *keys, int nkeys,
							 IndexProbeRow row, void *arg);

/* Column i of a row found by a probe; *isnull when NULL or not in the table. */
extern Datum index_probe_value(const IndexProbe *probe, TupleTableSlot *slot, int i,
							   bool *isnull);

extern void index_probe_init(void);

#endif							/* LEADFLOW_INDEX_PROBE_H */
