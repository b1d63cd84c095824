/*
 * cadence.c
 *	  The leadflow.cadence base type: text and binary I/O, equality and
 *	  hashing, the built-in named plans, and functions to look inside.
 *
 * Parsing and formatting live in cadence_parse.c (plain C, fuzzed); this
 * file only turns their results into datums and errors.  Binary input is
 * held to the same rules as text input (cadence_check_steps), so there is
 * no way to store a cadence that text input would refuse.
 */
#include "postgres.h"

#include "catalog/pg_enum.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "cadence.h"
#include "cadence_parse.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cadence_in);
PG_FUNCTION_INFO_V1(cadence_out);
PG_FUNCTION_INFO_V1(cadence_recv);
PG_FUNCTION_INFO_V1(cadence_send);
PG_FUNCTION_INFO_V1(cadence_eq);
PG_FUNCTION_INFO_V1(cadence_ne);
PG_FUNCTION_INFO_V1(cadence_hash);
PG_FUNCTION_INFO_V1(cadence_hash_extended);
PG_FUNCTION_INFO_V1(cadence_named);
PG_FUNCTION_INFO_V1(cadence_steps);
PG_FUNCTION_INFO_V1(cadence_length);

/*
 * The built-in plans, in text form: they go through the same parser as
 * user input, so the grammar is their only definition.
 */
typedef struct NamedCadence
{
	const char *name;
	const char *text;
} NamedCadence;

static const NamedCadence named_cadences[] = {
	/* 30 days, 10 touches: 5 calls and 5 emails. */
	{"10x30",
		"call@0, email@1h, call@1d, email@2d, call@4d, email@7d, call@11d, "
	"email@16d, call@22d, email@30d"},
	/* 90 days, 30 touches, alternating call and email. */
	{"30x90",
		"call@0, email@1h, call@1d, email@2d, call@3d, email@5d, call@7d, "
		"email@9d, call@11d, email@14d, call@17d, email@20d, call@23d, "
		"email@26d, call@30d, email@33d, call@37d, email@40d, call@44d, "
		"email@48d, call@52d, email@56d, call@60d, email@64d, call@68d, "
	"email@72d, call@76d, email@80d, call@85d, email@90d"},
};

/* Upper-case the first letter of a parser message for use as a detail. */
static char *
capitalized(const char *message)
{
	char	   *s = pstrdup(message);

	s[0] = pg_toupper((unsigned char) s[0]);
	return s;
}

/*
 * Report a text input error: the whole input in the message, and in the
 * detail what is wrong and at which character (1-based, as PostgreSQL's
 * own syntax errors count).
 */
static void
report_parse_error(const char *str, const CadenceParseError *err)
{
	char	   *what = capitalized(err->message);
	int			charpos = pg_mbstrlen_with_len(str, err->position) + 1;

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", "cadence",
					leadflow_quote_clip(str)),
			 err->length > 0 ?
			 errdetail("%s (character %d).", what, charpos) :
			 err->position > 0 ?
			 errdetail("%s at end of input.", what) :
			 errdetail("%s.", what),
			 err->hint[0] ? errhint("%s", err->hint) : 0));
}

Cadence *
cadence_from_steps(const CadenceStep *steps, int nsteps)
{
	Cadence    *result;

	Assert(nsteps >= 1 && nsteps <= CADENCE_MAX_STEPS);
	result = (Cadence *) palloc0(CADENCE_SIZE(nsteps));
	SET_VARSIZE(result, CADENCE_SIZE(nsteps));
	result->nsteps = nsteps;
	memcpy(result->steps, steps, sizeof(CadenceStep) * nsteps);
	return result;
}

Interval
cadence_step_offset(const CadenceStep *step)
{
	Interval	result;

	result.time = step->usecs;
	result.day = step->days;
	result.month = 0;
	return result;
}

Cadence *
cadence_by_name(const char *name)
{
	int			i;

	for (i = 0; i < (int) lengthof(named_cadences); i++)
	{
		CadenceStep steps[CADENCE_MAX_STEPS];
		CadenceParseError err;
		int			nsteps;

		if (strcmp(name, named_cadences[i].name) != 0)
			continue;
		nsteps = cadence_parse(named_cadences[i].text, steps, &err);
		if (nsteps < 0)
			elog(ERROR, "built-in cadence \"%s\" does not parse: %s",
				 name, err.message);
		return cadence_from_steps(steps, nsteps);
	}
	return NULL;
}

/*
 * Text I/O
 */

Datum
cadence_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	CadenceStep steps[CADENCE_MAX_STEPS];
	CadenceParseError err;
	int			nsteps;

	nsteps = cadence_parse(str, steps, &err);
	if (nsteps < 0)
		report_parse_error(str, &err);
	PG_RETURN_CADENCE_P(cadence_from_steps(steps, nsteps));
}

/* Canonical text: "call@0, email@1h, call@1d". */
Datum
cadence_out(PG_FUNCTION_ARGS)
{
	Cadence    *c = PG_GETARG_CADENCE_P(0);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < c->nsteps; i++)
	{
		char		offset[64];

		cadence_format_offset(&c->steps[i], offset, sizeof(offset));
		appendStringInfo(&buf, "%s%s@%s", i > 0 ? ", " : "",
						 cadence_channel_name(c->steps[i].channel), offset);
	}
	PG_RETURN_CSTRING(buf.data);
}

/*
 * Binary I/O: int4 number of steps, then for each step int4 channel code,
 * int4 days and int8 microseconds.
 */
#define CADENCE_STEP_WIRE_SIZE (4 + 4 + 8)

static void
report_binary_error(const CadenceParseError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid binary data for type %s", "cadence"),
			 errdetail("%s.", capitalized(err->message)),
			 err->hint[0] ? errhint("%s", err->hint) : 0));
}

Datum
cadence_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CadenceStep steps[CADENCE_MAX_STEPS];
	CadenceParseError err;
	int32		nsteps;
	int			i;

	/* Check the count and the length before reading the steps. */
	nsteps = (int32) pq_getmsgint(buf, 4);
	if (cadence_check_nsteps(nsteps, &err) < 0)
		report_binary_error(&err);
	if (buf->len - buf->cursor < nsteps * CADENCE_STEP_WIRE_SIZE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type %s", "cadence"),
				 errdetail("%d steps need %d bytes, but only %d are left.",
						   nsteps, nsteps * CADENCE_STEP_WIRE_SIZE,
						   buf->len - buf->cursor)));
	for (i = 0; i < nsteps; i++)
	{
		steps[i].channel = (int32) pq_getmsgint(buf, 4);
		steps[i].days = (int32) pq_getmsgint(buf, 4);
		steps[i].usecs = pq_getmsgint64(buf);
	}
	if (cadence_check_steps(steps, nsteps, &err) < 0)
		report_binary_error(&err);
	PG_RETURN_CADENCE_P(cadence_from_steps(steps, nsteps));
}

Datum
cadence_send(PG_FUNCTION_ARGS)
{
	Cadence    *c = PG_GETARG_CADENCE_P(0);
	StringInfoData buf;
	int			i;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, c->nsteps);
	for (i = 0; i < c->nsteps; i++)
	{
		pq_sendint32(&buf, c->steps[i].channel);
		pq_sendint32(&buf, c->steps[i].days);
		pq_sendint64(&buf, c->steps[i].usecs);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * Equality and hashing.  The stored form is canonical and has no padding,
 * so equal cadences are equal byte for byte.
 */

static bool
cadence_equal(FunctionCallInfo fcinfo)
{
	Cadence    *a = PG_GETARG_CADENCE_P(0);
	Cadence    *b = PG_GETARG_CADENCE_P(1);
	bool		result;

	result = VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return result;
}

Datum
cadence_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cadence_equal(fcinfo));
}

Datum
cadence_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!cadence_equal(fcinfo));
}

Datum
cadence_hash(PG_FUNCTION_ARGS)
{
	Cadence    *c = PG_GETARG_CADENCE_P(0);
	Datum		result;

	result = hash_any((unsigned char *) VARDATA(c), VARSIZE(c) - VARHDRSZ);
	PG_FREE_IF_COPY(c, 0);
	return result;
}

/* The 64-bit seeded hash that hash partitioning uses. */
Datum
cadence_hash_extended(PG_FUNCTION_ARGS)
{
	Cadence    *c = PG_GETARG_CADENCE_P(0);
	Datum		result;

	result = hash_any_extended((unsigned char *) VARDATA(c),
							   VARSIZE(c) - VARHDRSZ, PG_GETARG_INT64(1));
	PG_FREE_IF_COPY(c, 0);
	return result;
}

/*
 * SQL-callable helpers
 */

Datum
cadence_named(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Cadence    *result = cadence_by_name(name);

	if (result == NULL)
	{
		StringInfoData names;
		int			i;

		initStringInfo(&names);
		for (i = 0; i < (int) lengthof(named_cadences); i++)
			appendStringInfo(&names, "%s\"%s\"",
							 i == 0 ? "" : i == (int) lengthof(named_cadences) - 1 ? " and " : ", ",
							 named_cadences[i].name);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown cadence name \"%s\"", leadflow_quote_clip(name)),
				 errhint("Named cadences are %s.", names.data)));
	}
	PG_RETURN_CADENCE_P(result);
}

Datum
cadence_length(PG_FUNCTION_ARGS)
{
	Cadence    *c = PG_GETARG_CADENCE_P(0);

	PG_RETURN_INT32(c->nsteps);
}

/* State of cadence_steps across calls. */
typedef struct StepsState
{
	Cadence    *cadence;
	Oid			channel_oids[CHANNEL_COUNT];	/* leadflow.channel labels */
} StepsState;

/* OID of the label of "enumtype" named after channel code "channel". */
static Oid
channel_label_oid(Oid enumtype, int channel)
{
	const char *label = cadence_channel_name(channel);
	Oid			oid;

	oid = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
						  ObjectIdGetDatum(enumtype), CStringGetDatum(label));
	if (!OidIsValid(oid))
		elog(ERROR, "enum %u has no label \"%s\"", enumtype, label);
	return oid;
}

/*
 * cadence_steps(c) -> setof (step int, channel leadflow.channel,
 *							  "offset" interval), step 0-based.
 */
Datum
cadence_steps(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	StepsState *state;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext oldcontext;
		TupleDesc	tupdesc;
		Oid			enumtype;
		int			i;

		funcctx = SRF_FIRSTCALL_INIT();
		oldcontext = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);

		/* The channel column's type is leadflow.channel, whatever the path. */
		enumtype = TupleDescAttr(tupdesc, 1)->atttypid;
		state = (StepsState *) palloc(sizeof(StepsState));
		state->cadence = PG_GETARG_CADENCE_P_COPY(0);
		for (i = 0; i < CHANNEL_COUNT; i++)
			state->channel_oids[i] = channel_label_oid(enumtype, i);
		funcctx->user_fctx = state;
		funcctx->max_calls = state->cadence->nsteps;
		MemoryContextSwitchTo(oldcontext);
	}

	funcctx = SRF_PERCALL_SETUP();
	state = (StepsState *) funcctx->user_fctx;
	if (funcctx->call_cntr < funcctx->max_calls)
	{
		int			i = (int) funcctx->call_cntr;
		const CadenceStep *step = &state->cadence->steps[i];
		Interval   *offset = (Interval *) palloc(sizeof(Interval));
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		*offset = cadence_step_offset(step);
		values[0] = Int32GetDatum(i);
		values[1] = ObjectIdGetDatum(state->channel_oids[step->channel]);
		values[2] = IntervalPGetDatum(offset);
		SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc,
																   values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}
