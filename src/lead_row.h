/*
 * lead_row.h
 *	  The lead columns routing reads and writes: a lead's input from its
 *	  row, a result onto its row, and batched writes of results
 *	  (lead_row.c).
 */
#ifndef LEADFLOW_LEAD_ROW_H
#define LEADFLOW_LEAD_ROW_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"

#include "config_cache.h"
#include "routing.h"
/* stage_is_open and stage_is_won, which readers of lead rows ask */
#include "stages.h"

typedef struct LeadColumns
{
	Oid			relid;
	int			id,
				source,
				campaign,
				company,
				country,
				email,
				attrs,
				score,
				account_id,
				stage,
				stage_changed_at,
				queue,
				owner_id,
				assigned_at,
				cadence,
				cadence_step,
				next_touch_at,
				sla_due_at,
				reject_reason,
				reassignments,
				name,
				phone,
				duplicate_of,
				predicted,
				created_at,
				last_touch_at;
} LeadColumns;

/* The columns a routing result sets, in this order. */
#define LEAD_RESULT_NCOLS 11

extern void lead_columns_init(LeadColumns *cols, TupleDesc desc);
extern void lead_input_from_tuple(LeadInput *lead, HeapTuple tuple, TupleDesc desc,
								  const LeadColumns *cols);
extern void lead_result_values(const LeadInput *lead, const RouteResult *res,
							   RoutingConfig *config, TimestampTz now,
							   Datum *values, bool *nulls);
extern HeapTuple lead_apply_result(HeapTuple tuple, TupleDesc desc,
								   const LeadColumns *cols, const Datum *values,
								   const bool *nulls);
/*
 * Routing results waiting to be written onto their leads by one UPDATE,
 * parameter by parameter: the lead id, the LEAD_RESULT_NCOLS result
 * columns, the reassignments to add.
 */
#define LEAD_WRITE_PARAMS (LEAD_RESULT_NCOLS + 2)
#define LEAD_WRITE_CADENCE 5	/* parameters of the extension's own types */
#define LEAD_WRITE_STAGE 9
typedef struct LeadWrites
{
	MemoryContext cxt;			/* the kept values; reset by each flush */
	int			n;
	int			capacity;
	Datum	   *values[LEAD_WRITE_PARAMS];
	bool	   *nulls[LEAD_WRITE_PARAMS];
} LeadWrites;

extern void lead_writes_init(LeadWrites *w, MemoryContext cxt);
extern void lead_writes_add(LeadWrites *w, RoutingConfig *config, int64 lead_id,
							const Datum *values, const bool *nulls,
							int32 add_reassignments);
extern void lead_writes_flush(LeadWrites *w, RoutingConfig *config);
extern void lead_writes_discard(LeadWrites *w);
extern void lead_write_result(RoutingConfig *config, int64 lead_id,
							  const Datum *values, const bool *nulls,
							  int32 add_reassignments);
extern void lead_write_sla_restart(int64 lead_id, TimestampTz due);
extern HeapTuple lead_normalize(HeapTuple tuple, HeapTuple old, TupleDesc desc,
								const LeadColumns *cols, RoutingConfig *config,
								MemoryContext tuple_context);

/*
 * While routing code itself updates a lead, the lead's own triggers must
 * not count the change a second time.
 */
extern bool leadflow_routing_writes;

#endif							/* LEADFLOW_LEAD_ROW_H */
