/*
 * ledger.c
 *	  The decision ledger and alerts.
 *
 * Every routing decision writes one leadflow.decision row in the same
 * transaction as the owner change, with every candidate and why it was
 * passed over.  Alerts are rows in leadflow.alert and a NOTIFY on channel
 * leadflow_alert (delivered at commit, so a rolled-back decision never
 * alerts anyone).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "routing.h"

static SPIPlanPtr decision_plan = NULL;
static SPIPlanPtr alert_plan = NULL;

/* A flat JSON object of string values, for alert details. */
Jsonb *
ledger_detail(int npairs, const char **keys, const char **values)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;
	int			i;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (i = 0; i < npairs; i++)
		jsonb_push_string(&state, keys[i], values[i]);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

static Datum
text_or_null(const char *s, char *null)
{
	*null = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

static Datum
int4_or_null(int32 v, char *null)
{
	*null = v ? ' ' : 'n';
	return Int32GetDatum(v);
}

/*
 * Write one decision.  Version 1.1 stores the candidates packed
 * (leadflow.candidate_list, see candidates.c); a database still on 1.0
 * has a jsonb column.  Which one is decided when the statement is
 * prepared; after ALTER EXTENSION UPDATE in the same session the prepared
 * statement is re-planned and jsonb is converted by the assignment cast.
 */
void
ledger_decision(const DecisionRow *row)
{
	static Oid	argtypes[] = {INT8OID, TIMESTAMPTZOID, TEXTOID, INT4OID, INT4OID,
	INT4OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID};
	static bool packed = false;
	Datum		args[10];
	char		nulls[10];

	if (decision_plan == NULL)
	{
		Oid			list_type = candidate_list_type_oid();

		packed = OidIsValid(list_type);
		argtypes[9] = packed ? list_type : JSONBOID;
	}

	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(row->lead_id);
	args[1] = TimestampTzGetDatum(row->at);
	args[2] = CStringGetTextDatum(row->kind);
	args[3] = int4_or_null(row->from_rep, &nulls[3]);
	args[4] = int4_or_null(row->to_rep, &nulls[4]);
	args[5] = int4_or_null(row->rule_id, &nulls[5]);
	args[6] = text_or_null(row->queue, &nulls[6]);
	args[7] = text_or_null(row->strategy, &nulls[7]);
	args[8] = text_or_null(row->reason, &nulls[8]);
	if (row->cands == NULL)
		nulls[9] = 'n';
	else if (packed)
		args[9] = candidate_list_pack(row->cands, row->ncands);
	else
		args[9] = JsonbPGetDatum(candidates_jsonb(row->cands, row->ncands));

	if (SPI_execute_plan(leadflow_plan(&decision_plan,
									   "INSERT INTO leadflow.decision"
									   " (lead_id, at, kind, from_rep, to_rep, rule_id,"
									   "  queue, strategy, reason, candidates)"
									   " VALUES ($1, $2, $3::leadflow.decision_kind, $4, $5, $6,"
									   "  $7, $8::leadflow.strategy, $9, $10)",
									   10, argtypes),
						 args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not write the decision ledger");
}

/*
 * Record an alert and announce it on channel leadflow_alert with a JSON
 * payload: {"id", "kind", "lead_id", "rep_id", "at", "detail"}.
 */
void
ledger_alert(const char *kind, int64 lead_id, int32 rep_id, Jsonb *detail,
			 TimestampTz at)
{
	static const Oid argtypes[] = {TEXTOID, INT8OID, INT4OID, JSONBOID, TIMESTAMPTZOID};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	bool		isnull;
	char	   *payload;

	args[0] = CStringGetTextDatum(kind);
	args[1] = Int64GetDatum(lead_id);
	nulls[1] = lead_id ? ' ' : 'n';
	args[2] = int4_or_null(rep_id, &nulls[2]);
	args[3] = JsonbPGetDatum(detail ? detail : ledger_detail(0, NULL, NULL));
	args[4] = TimestampTzGetDatum(at);

	if (SPI_execute_plan(leadflow_plan(&alert_plan,
									   "INSERT INTO leadflow.alert (kind, lead_id, rep_id, detail, at)"
									   " VALUES ($1::leadflow.alert_kind, $2, $3, $4, $5)"
									   " RETURNING json_build_object('id', id, 'kind', kind,"
									   "  'lead_id', lead_id, 'rep_id', rep_id, 'at', at,"
									   "  'detail', detail)::text",
									   5, argtypes),
						 args, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "leadflow: could not record an alert");
	payload = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
	Async_Notify("leadflow_alert", payload);
}
