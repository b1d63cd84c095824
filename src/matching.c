/*
 * matching.c
 *	  Rule matching: does a lead's routing document satisfy a rule's match?
 *
 * The routing document is the lead's attrs merged with the columns source,
 * campaign, company, country and the email's domain as "domain"; a column
 * that is set wins over an attrs key of the same name, a NULL column leaves
 * the attrs key visible.  The lead's account, when it has one, is the
 * object at "account" (accounts.c builds it), hiding an attrs key too.  It is never built: RoutingDoc points at attrs and
 * at the column values, and keys are looked up in attrs by binary search.
 *
 * A match is a JSON object; every key must hold (AND), so {} matches all.
 *	- "k": scalar	the document's value at k equals the scalar.  Strings
 *					compare exactly (case and accents count), numbers
 *					numerically (1 = 1.0), true/false as booleans, and null
 *					matches only a JSON null.
 *	- "k": [a, b]	any of: the document's value equals a or b.
 *	  When the document's value at k is an array (tags), it matches when any
 *	  of its elements equals the scalar or any element of the rule's array.
 *	  So a scalar is the same as a one-element array.
 *	- "not": {...}	the sub-match does not hold.  Combines with the other
 *					keys (AND) and nests.  "not" is reserved: it cannot
 *					name a document key.
 *	- "k": {...}	the document's value at k is an object that satisfies
 *					the sub-match (itself with the same rules).
 * A key the document does not have never holds, so {"not": {"k": "v"}}
 * matches a document without k.
 *
 * Valid matches (match_is_valid) are objects in which "not" holds an object
 * and every array is non-empty and lists only scalars, nesting objects at
 * most MATCH_MAX_DEPTH deep.  The matcher does not
 * re-check: whatever would be invalid simply never matches.
 *
 * Routing tests every new lead against every rule, so the matcher reads the
 * jsonb containers in place (EntryCursor) and allocates nothing itself --
 * except to sort a rule's any-of list when it meets a large document array
 * (array_has_any_sorted), which keeps the time bounded by (n + m) log m.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/typcache.h"

#include "matching.h"

const char *const routing_field_names[ROUTING_NFIELDS] = {
	[ROUTING_SOURCE] = "source",
	[ROUTING_CAMPAIGN] = "campaign",
	[ROUTING_COMPANY] = "company",
	[ROUTING_COUNTRY] = "country",
	[ROUTING_DOMAIN] = "domain",
};

#define NOT_KEY "not"

#define MATCH_HINT "Use {\"key\": value}, {\"key\": [v1, v2]} or {\"not\": {...}}."

/* ----------------------------------------------------------------------
 * Reading containers in place
 * ----------------------------------------------------------------------
 */

/*
 * Walks a run of a container's JEntries in order.  An object stores its
 * keys in entries 0..n-1 and their values in n..2n-1, an array its elements
 * in 0..n-1; the data of every entry follows the JEntry array.  Sequential
 * reading keeps a running offset, where random access (getJsonbOffset) would
 * walk back up to JB_OFFSET_STRIDE entries each time.  The layout is the
 * on-disk format, fixed since 9.4 because pg_upgrade keeps jsonb as is.
 */
typedef struct EntryCursor
{
	JsonbContainer *container;
	const char *data;			/* where entry data starts */
	int			next;			/* index of the next entry to read */
	int			end;			/* one past the last index to read */
	uint32		offset;			/* data offset of entry "next" */
} EntryCursor;

static void
cursor_init(EntryCursor *cur, JsonbContainer *c, int first, int end)
{
	uint32		count = JsonContainerSize(c);
	uint32		nentries = JsonContainerIsObject(c) ? 2 * count : count;

	cur->container = c;
	cur->data = (const char *) &c->children[nentries];
	cur->next = first;
	cur->end = end;
	cur->offset = (first == 0) ? 0 : getJsonbOffset(c, first);
}

/* The next entry as a JsonbValue (containers as jbvBinary); false at end. */
static bool
cursor_next(EntryCursor *cur, JsonbValue *out)
{
	JEntry		entry;
	uint32		start;
	uint32		len;

	if (cur->next >= cur->end)
		return false;
	entry = cur->container->children[cur->next++];
	start = cur->offset;
	JBE_ADVANCE_OFFSET(cur->offset, entry);
	len = cur->offset - start;

	if (JBE_ISSTRING(entry))
	{
		out->type = jbvString;
		out->val.string.val = (char *) cur->data + start;
		out->val.string.len = len;
	}
	else if (JBE_ISNUMERIC(entry))
	{
		/* numerics and containers are int-aligned, after padding */
		out->type = jbvNumeric;
		out->val.numeric = (Numeric) (cur->data + INTALIGN(start));
	}
	else if (JBE_ISBOOL(entry))
	{
		out->type = jbvBool;
		out->val.boolean = JBE_ISBOOL_TRUE(entry);
	}
	else if (JBE_ISNULL(entry))
		out->type = jbvNull;
	else if (JBE_ISCONTAINER(entry))
	{
		out->type = jbvBinary;
		out->val.binary.data = (JsonbContainer *) (cur->data + INTALIGN(start));
		out->val.binary.len = len - (INTALIGN(start) - start);
	}
	else
		elog(ERROR, "unknown jsonb entry type 0x%08x", entry);
	return true;
}

/* Iterates an object's key/value pairs in key order. */
typedef struct PairCursor
{
	EntryCursor keys;
	EntryCursor values;
} PairCursor;

static void
pairs_init(PairCursor *cur, JsonbContainer *obj)
{
	int			n = JsonContainerSize(obj);

	Assert(JsonContainerIsObject(obj));
	cursor_init(&cur->keys, obj, 0, n);
	cursor_init(&cur->values, obj, n, 2 * n);
}

static bool
pairs_next(PairCursor *cur, JsonbValue *key, JsonbValue *value)
{
	if (!cursor_next(&cur->keys, key))
		return false;
	return cursor_next(&cur->values, value);
}

static void
elements_init(EntryCursor *cur, JsonbContainer *array)
{
	Assert(JsonContainerIsArray(array));
	cursor_init(cur, array, 0, JsonContainerSize(array));
}

static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

static bool
key_is(const JsonbValue *key, const char *name, int name_len)
{
	return key->val.string.len == name_len &&
		memcmp(key->val.string.val, name, name_len) == 0;
}

static bool
is_not_key(const JsonbValue *key)
{
	return key_is(key, NOT_KEY, strlen(NOT_KEY));
}

/* ----------------------------------------------------------------------
 * Matching
 * ----------------------------------------------------------------------
 */

/* jsonb equality of two scalars; a container equals no scalar. */
static bool
scalars_equal(const JsonbValue *a, const JsonbValue *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case jbvNull:
			return true;
		case jbvBool:
			return a->val.boolean == b->val.boolean;
		case jbvString:
			return a->val.string.len == b->val.string.len &&
				memcmp(a->val.string.val, b->val.string.val,
					   a->val.string.len) == 0;
		case jbvNumeric:
			return DatumGetBool(DirectFunctionCall2(numeric_eq,
													NumericGetDatum(a->val.numeric),
													NumericGetDatum(b->val.numeric)));
		default:
			return false;
	}
}

/* Does the document's value equal the wanted scalar, or contain it? */
static bool
value_has(const JsonbValue *docval, const JsonbValue *wanted)
{
	EntryCursor elems;
	JsonbValue	elem;

	if (!is_array(docval))
		return scalars_equal(docval, wanted);
	elements_init(&elems, docval->val.binary.data);
	while (cursor_next(&elems, &elem))
		if (scalars_equal(&elem, wanted))
			return true;
	return false;
}

/*
 * A total order of scalars that agrees with scalars_equal (equal exactly
 * when scalars_equal says so): by type, then by value.  Not for containers.
 */
static int
scalar_cmp(const void *pa, const void *pb)
{
	const JsonbValue *a = pa;
	const JsonbValue *b = pb;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	switch (a->type)
	{
		case jbvString:
			{
				int			cmp = memcmp(a->val.string.val, b->val.string.val,
										 Min(a->val.string.len, b->val.string.len));

				if (cmp != 0)
					return cmp;
				return (a->val.string.len > b->val.string.len) -
					(a->val.string.len < b->val.string.len);
			}
		case jbvNumeric:
			return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
													 NumericGetDatum(a->val.numeric),
													 NumericGetDatum(b->val.numeric)));
		case jbvBool:
			return (int) a->val.boolean - (int) b->val.boolean;
		default:
			return 0;			/* null */
	}
}

/*
 * Above this many element pairs, a document array (tags) is tested against
 * a rule's any-of list by sorting the list and searching it, not by
 * comparing every pair: a CRM may send 100,000 tags to a rule listing
 * 100,000 values, and 10^10 comparisons would hold routing for minutes.
 */
#define ANY_OF_PAIRS_MAX 1024

/* Does any element of the document array equal an element of any_of? */
static bool
array_has_any_sorted(JsonbContainer *doc_array, JsonbContainer *any_of)
{
	JsonbValue *wanted = palloc(sizeof(JsonbValue) * JsonContainerSize(any_of));
	int			nwanted = 0;
	EntryCursor cur;
	JsonbValue	v;
	bool		found = false;

	/* containers equal no scalar: leave them out on both sides */
	elements_init(&cur, any_of);
	while (cursor_next(&cur, &v))
		if (v.type != jbvBinary)
			wanted[nwanted++] = v;
	qsort(wanted, nwanted, sizeof(JsonbValue), scalar_cmp);
	elements_init(&cur, doc_array);
	while (!found && cursor_next(&cur, &v))
		found = v.type != jbvBinary &&
			bsearch(&v, wanted, nwanted, sizeof(JsonbValue), scalar_cmp) != NULL;
	pfree(wanted);
	return found;
}

/* Does the document's value have any of the rule array's elements? */
static bool
value_has_any(const JsonbValue *docval, JsonbContainer *any_of)
{
	EntryCursor wanted;
	JsonbValue	w;

	if (is_array(docval) &&
		(uint64) JsonContainerSize(docval->val.binary.data) *
		JsonContainerSize(any_of) > ANY_OF_PAIRS_MAX)
		return array_has_any_sorted(docval->val.binary.data, any_of);
	elements_init(&wanted, any_of);
	while (cursor_next(&wanted, &w))
		if (value_has(docval, &w))
			return true;
	return false;
}

/* The document's value at key, override fields first; false if absent. */
static bool
doc_lookup(const RoutingDoc *doc, const JsonbValue *key, JsonbValue *out)
{
	for (int i = 0; i < ROUTING_NFIELDS; i++)
	{
		const char *name = routing_field_names[i];

		if (doc->field[i] != NULL && key_is(key, name, strlen(name)))
		{
			out->type = jbvString;
			out->val.string.val = (char *) doc->field[i];
			out->val.string.len = doc->field_len[i];
			return true;
		}
	}
	if (doc->account != NULL && key_is(key, ROUTING_ACCOUNT_KEY, strlen(ROUTING_ACCOUNT_KEY)))
	{
		out->type = jbvBinary;
		out->val.binary.data = doc->account;
		out->val.binary.len = doc->account_len;
		return true;
	}
	if (doc->attrs == NULL)
		return false;
	return getKeyJsonValueFromContainer(doc->attrs, key->val.string.val,
										key->val.string.len, out) != NULL;
}

bool
routing_doc_lookup(const RoutingDoc *doc, const char *key, int key_len,
				   JsonbValue *out)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = key_len;
	return doc_lookup(doc, &k, out);
}

static bool doc_matches_object(const RoutingDoc *doc, JsonbContainer *match);

/* Does the document's object value satisfy a nested match? */
static bool
nested_matches(const JsonbValue *docval, JsonbContainer *match)
{
	RoutingDoc	inner = {0};	/* below the top, no override fields */

	if (!is_object(docval))
		return false;
	inner.attrs = docval->val.binary.data;
	return doc_matches_object(&inner, match);
}

/* Does one key of a match hold for the document? */
static bool
pair_holds(const RoutingDoc *doc, const JsonbValue *key, const JsonbValue *want)
{
	JsonbValue	docval;

	if (is_not_key(key))
		return is_object(want) &&
			!doc_matches_object(doc, want->val.binary.data);
	if (!doc_lookup(doc, key, &docval))
		return false;
	if (is_array(want))
		return value_has_any(&docval, want->val.binary.data);
	if (is_object(want))
		return nested_matches(&docval, want->val.binary.data);
	return value_has(&docval, want);
}

static bool
doc_matches_object(const RoutingDoc *doc, JsonbContainer *match)
{
	PairCursor	pairs;
	JsonbValue	key;
	JsonbValue	want;

	/* "not" and nested objects recurse as deep as the rule nests */
	check_stack_depth();
	pairs_init(&pairs, match);
	while (pairs_next(&pairs, &key, &want))
		if (!pair_holds(doc, &key, &want))
			return false;
	return true;
}

bool
routing_doc_matches(const RoutingDoc *doc, JsonbContainer *match)
{
	if (!JsonContainerIsObject(match))
		return false;
	return doc_matches_object(doc, match);
}

/* ----------------------------------------------------------------------
 * Building a routing document
 * ----------------------------------------------------------------------
 */

static void
set_field(RoutingDoc *doc, RoutingField f, text *value)
{
	if (value == NULL)
		return;
	doc->field[f] = VARDATA_ANY(value);
	doc->field_len[f] = VARSIZE_ANY_EXHDR(value);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		c == '\f' || c == '\v';
}

/* The lower-cased, trimmed part of an email after its last '@'. */
static void
set_domain(RoutingDoc *doc, text *email)
{
	const char *start;
	const char *end;
	const char *at;

	if (email == NULL)
		return;
	start = VARDATA_ANY(email);
	end = start + VARSIZE_ANY_EXHDR(email);
	at = NULL;
	for (const char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return;
	start = at + 1;
	while (start < end && is_blank(*start))
		start++;
	while (end > start && is_blank(end[-1]))
		end--;
	if (start == end)
		return;
	/* the same folding as lower(), so SQL and C agree on the domain */
	doc->field[ROUTING_DOMAIN] = str_tolower(start, end - start,
											 DEFAULT_COLLATION_OID);
	doc->field_len[ROUTING_DOMAIN] = strlen(doc->field[ROUTING_DOMAIN]);
}

void
routing_doc_build(RoutingDoc *doc, Jsonb *attrs,
				  text *source, text *campaign, text *company,
				  text *country, text *email)
{
	memset(doc, 0, sizeof(*doc));
	if (attrs != NULL && JB_ROOT_IS_OBJECT(attrs))
		doc->attrs = &attrs->root;
	set_field(doc, ROUTING_SOURCE, source);
	set_field(doc, ROUTING_CAMPAIGN, campaign);
	set_field(doc, ROUTING_COMPANY, company);
	set_field(doc, ROUTING_COUNTRY, country);
	set_domain(doc, email);
}

void
routing_doc_set_account(RoutingDoc *doc, Jsonb *account)
{
	doc->account = account != NULL && JB_ROOT_IS_OBJECT(account) ? &account->root : NULL;
	doc->account_len = doc->account ? VARSIZE(account) - VARHDRSZ : 0;
}

/* ----------------------------------------------------------------------
 * Validation
 * ----------------------------------------------------------------------
 */

/* "a string", "an array", ... for messages. */
static const char *
kind_of(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsObject(v->val.binary.data) ? "an object" : "an array";
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
			return NULL;		/* keep the compiler quiet */
	}
}

/* The kind of a top-level jsonb (a bare scalar is stored as an array of one). */
static const char *
root_kind_of(JsonbContainer *root)
{
	JsonbValue	v;

	if (JsonContainerIsScalar(root))
	{
		EntryCursor only;

		elements_init(&only, root);
		cursor_next(&only, &v);
	}
	else
	{
		v.type = jbvBinary;
		v.val.binary.data = root;
	}
	return kind_of(&v);
}

/*
 * Where a problem is, for messages: the quoted keys from the top, joined
 * by dots ("not"."country").  path is NULL when nobody wants the reason.
 */
static int
path_push(StringInfo path, const JsonbValue *key)
{
	int			saved;

	if (path == NULL)
		return 0;
	saved = path->len;
	if (saved > 0)
		appendStringInfoChar(path, '.');
	escape_json(path, pnstrdup(key->val.string.val, key->val.string.len));
	return saved;
}

static void
path_pop(StringInfo path, int saved)
{
	if (path == NULL)
		return;
	path->len = saved;
	path->data[saved] = '\0';
}

/*
 * How deep objects may nest in a match ("not" and sub-matches count).  No
 * sensible rule comes near; a limit keeps the validator and the matcher,
 * which recurse as deep as the rule, off the stack limit.
 */
#define MATCH_MAX_DEPTH 1000

static bool valid_object(JsonbContainer *obj, int depth, StringInfo path,
						 StringInfo why);

/* An any-of list: at least one element, and only scalars. */
static bool
valid_array(JsonbContainer *array, StringInfo path, StringInfo why)
{
	EntryCursor elems;
	JsonbValue	elem;

	if (JsonContainerSize(array) == 0)
	{
		if (why)
			appendStringInfo(why, "Key %s holds an empty array, which nothing matches.",
							 path->data);
		return false;
	}
	elements_init(&elems, array);
	while (cursor_next(&elems, &elem))
	{
		if (elem.type != jbvBinary)
			continue;
		if (why)
			appendStringInfo(why, "Key %s holds an array containing %s; list only strings, numbers, booleans or null.",
							 path->data, kind_of(&elem));
		return false;
	}
	return true;
}

static bool
valid_pair(const JsonbValue *key, const JsonbValue *val, int depth,
		   StringInfo path, StringInfo why)
{
	if (is_not_key(key) && !is_object(val))
	{
		if (why)
			appendStringInfo(why, "Key %s must hold an object, not %s.",
							 path->data, kind_of(val));
		return false;
	}
	if (is_array(val))
		return valid_array(val->val.binary.data, path, why);
	if (is_object(val))
		return valid_object(val->val.binary.data, depth + 1, path, why);
	return true;
}

static bool
valid_object(JsonbContainer *obj, int depth, StringInfo path, StringInfo why)
{
	PairCursor	pairs;
	JsonbValue	key;
	JsonbValue	val;

	if (depth > MATCH_MAX_DEPTH)
	{
		if (why)
			appendStringInfo(why, "The match nests objects more than %d deep.",
							 MATCH_MAX_DEPTH);
		return false;
	}
	check_stack_depth();
	pairs_init(&pairs, obj);
	while (pairs_next(&pairs, &key, &val))
	{
		int			saved = path_push(path, &key);

		/* on failure the path stays as it is: the message already used it */
		if (!valid_pair(&key, &val, depth, path, why))
			return false;
		path_pop(path, saved);
	}
	return true;
}

bool
match_is_valid(JsonbContainer *match, StringInfo why)
{
	StringInfoData path;

	if (!JsonContainerIsObject(match))
	{
		if (why)
			appendStringInfo(why, "The match must be a JSON object, not %s.",
							 root_kind_of(match));
		return false;
	}
	if (why == NULL)
		return valid_object(match, 1, NULL, NULL);
	initStringInfo(&path);
	return valid_object(match, 1, &path, why);
}

/* Raise the "invalid rule match" error unless the match is valid. */
static void
require_valid_match(JsonbContainer *match)
{
	StringInfoData why;

	initStringInfo(&why);
	if (match_is_valid(match, &why))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid rule match"),
			 errdetail("%s", why.data),
			 errhint(MATCH_HINT)));
}

/* ----------------------------------------------------------------------
 * SQL functions
 * ----------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(leadflow_match_is_valid);

/* leadflow.match_is_valid(match jsonb) → boolean */
Datum
leadflow_match_is_valid(PG_FUNCTION_ARGS)
{
	Jsonb	   *match = PG_GETARG_JSONB_P(0);

	PG_RETURN_BOOL(match_is_valid(&match->root, NULL));
}

PG_FUNCTION_INFO_V1(leadflow_check_match);

/* leadflow.check_match(match jsonb) → true, or the error; for CHECKs. */
Datum
leadflow_check_match(PG_FUNCTION_ARGS)
{
	Jsonb	   *match = PG_GETARG_JSONB_P(0);

	require_valid_match(&match->root);
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(leadflow_matches);

/* leadflow.matches(doc jsonb, match jsonb) → boolean; doc is plain attrs. */
Datum
leadflow_matches(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc = PG_GETARG_JSONB_P(0);
	Jsonb	   *match = PG_GETARG_JSONB_P(1);
	RoutingDoc	rdoc = {0};

	require_valid_match(&match->root);
	if (!JB_ROOT_IS_OBJECT(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a routing document must be a JSON object"),
				 errdetail("The document is %s.", root_kind_of(&doc->root))));
	rdoc.attrs = &doc->root;
	PG_RETURN_BOOL(routing_doc_matches(&rdoc, &match->root));
}

/*
 * The value of a row's column by name, or NULL when the column is NULL.
 * The row must have the column, of the given type: a row that lacks one
 * would otherwise just never match, which hides the mistake.
 */
#define LEAD_ROW_HINT \
	"Pass a leadflow.lead row, or a row with text columns source, campaign, company, country and email and a jsonb column attrs."

static Datum
row_column(HeapTuple row, TupleDesc desc, const char *name, Oid type,
		   bool *isnull)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || strcmp(NameStr(att->attname), name) != 0)
			continue;
		if (att->atttypid != type)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of the lead row is of type %s, not %s",
							name, format_type_be(att->atttypid),
							format_type_be(type)),
					 errhint(LEAD_ROW_HINT)));
		return heap_getattr(row, i + 1, desc, isnull);
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("the lead row has no column \"%s\"", name),
			 errhint(LEAD_ROW_HINT)));
	return (Datum) 0;			/* keep the compiler quiet */
}

static text *
row_text(HeapTuple row, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = row_column(row, desc, name, TEXTOID, &isnull);

	return isnull ? NULL : DatumGetTextPP(d);
}

static Jsonb *
row_jsonb(HeapTuple row, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		d = row_column(row, desc, name, JSONBOID, &isnull);

	return isnull ? NULL : DatumGetJsonbP(d);
}

PG_FUNCTION_INFO_V1(leadflow_lead_matches);

/*
 * leadflow.lead_matches(l record, match jsonb) → boolean: the lead's
 * routing document (attrs with the column overrides) against the match,
 * exactly as routing sees it.
 */
Datum
leadflow_lead_matches(PG_FUNCTION_ARGS)
{
	HeapTupleHeader header = PG_GETARG_HEAPTUPLEHEADER(0);
	Jsonb	   *match = PG_GETARG_JSONB_P(1);
	TupleDesc	desc;
	HeapTupleData row;
	Jsonb	   *attrs;
	text	   *field[ROUTING_DOMAIN];	/* source .. country */
	text	   *email;
	RoutingDoc	doc;

	require_valid_match(&match->root);
	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(header),
								  HeapTupleHeaderGetTypMod(header));
	row.t_len = HeapTupleHeaderGetDatumLength(header);
	ItemPointerSetInvalid(&row.t_self);
	row.t_tableOid = InvalidOid;
	row.t_data = header;

	/* one column at a time, so that a bad row always names the same one */
	attrs = row_jsonb(&row, desc, "attrs");
	for (int f = 0; f < ROUTING_DOMAIN; f++)
		field[f] = row_text(&row, desc, routing_field_names[f]);
	email = row_text(&row, desc, "email");
	ReleaseTupleDesc(desc);

	routing_doc_build(&doc, attrs, field[ROUTING_SOURCE], field[ROUTING_CAMPAIGN],
					  field[ROUTING_COMPANY], field[ROUTING_COUNTRY], email);
	PG_RETURN_BOOL(routing_doc_matches(&doc, &match->root));
}
