/*
 * predict.c
 *	  Predictive scoring: a naive Bayes model learned in the database from
 *	  closed leads, stored in leadflow.model, applied by leadflow.predict.
 *
 * Training set: leads in stage qualified or converted (positive) and
 * rejected (negative); leads in other stages are not outcomes yet.
 *
 * Features are keys of the routing document (attrs plus source, campaign,
 * company, country, domain), read as matching reads them.  A feature is
 * numeric when at least 90% of its present values are numbers (JSON
 * numbers, or strings that read as finite numbers): it is then cut into
 * up to TRAIN_BINS quantile bins learned at training, and its few other
 * values share one "other" slot.  Otherwise every distinct text form is a
 * category.  A missing key, a JSON null, an object or an array is
 * "missing", a slot of its own.  Categorical features also keep an
 * "unseen" slot for values training never met.
 *
 * Each slot's log-likelihood ratio, with Laplace smoothing (alpha = 1) over
 * the feature's K slots:
 *	llr = log((pos + 1) / (P + K)) - log((neg + 1) / (N + K))
 * and a document's log-odds are log(P / N) plus the llr of each feature's
 * slot; the probability is the logistic of that.  A slot without any
 * training lead has llr 0 (see slot_llr).
 *
 * Stored: leadflow.model (name, trained_at, features, params, positives,
 * negatives, auc), params being the counts as JSON, so a model can be
 * inspected and is exported by pg_dump.  predict uses the newest version
 * of a name.  The parsed model is cached per backend; a statement trigger
 * on leadflow.model (config_changed) invalidates the cache, so a new
 * version is picked up without a query per prediction.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "leadflow.h"
#include "routing.h"
#include "scoring.h"

/* Quantile bins of a numeric feature (fewer when values repeat). */
#ifndef TRAIN_BINS
#define TRAIN_BINS 10
#endif
/* Share of present values that must be numbers for a numeric feature. */
#define NUMERIC_SHARE 0.9
/* Leads read per cursor fetch while training. */
#define TRAIN_FETCH 1000
/* The most features a model may have (each is a column of every training row). */
#define TRAIN_MAX_FEATURES 256
#define DEFAULT_MODEL "default"

/* ----------------------------------------------------------------------
 * Feature values: read the same way by training and prediction
 * ----------------------------------------------------------------------
 */

typedef struct FeatureValue
{
	bool		present;
	bool		is_number;
	double		number;
	const char *text;			/* the text form, not NUL-terminated */
	int			text_len;
} FeatureValue;

/* A string that is a finite number, with optional surrounding blanks. */
static bool
parse_number(const char *s, int len, double *out)
{
	char		buf[64];
	char	   *end;

	while (len > 0 && isspace((unsigned char) *s))
		s++, len--;
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	if (len == 0 || len >= (int) sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	return *end == '\0' && errno == 0 && isfinite(*out);
}

static void
feature_value(const RoutingDoc *doc, const char *feature, int feature_len,
			  FeatureValue *out)
{
	JsonbValue	v;

	memset(out, 0, sizeof(*out));
	if (!routing_doc_lookup(doc, feature, feature_len, &v))
		return;
	switch (v.type)
	{
		case jbvString:
			out->text = v.val.string.val;
			out->text_len = v.val.string.len;
			out->is_number = parse_number(out->text, out->text_len, &out->number);
			break;
		case jbvNumeric:
			out->text = DatumGetCString(DirectFunctionCall1(numeric_out,
															NumericGetDatum(v.val.numeric)));
			out->text_len = strlen(out->text);
			out->number = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
															 NumericGetDatum(v.val.numeric)));
			out->is_number = isfinite(out->number);
			break;
		case jbvBool:
			out->text = v.val.boolean ? "true" : "false";
			out->text_len = strlen(out->text);
			break;
		default:
			return;				/* null, object, array: missing */
	}
	out->present = true;
}

/* ----------------------------------------------------------------------
 * A model in memory
 * ----------------------------------------------------------------------
 */

typedef struct ModelCategory
{
	const char *text;
	int			len;
	double		llr;
} ModelCategory;

typedef struct ModelFeature
{
	char	   *name;
	int			name_len;
	bool		numeric;
	int			ncategories;	/* categorical: sorted by category_cmp */
	ModelCategory *categories;
	int			ncuts;			/* numeric: bin i is [cuts[i-1], cuts[i]) */
	double	   *cuts;
	double	   *bin_llr;		/* ncuts + 1 */
	double		missing_llr;
	double		unseen_llr;		/* categorical: unseen value; numeric: not a number */
} ModelFeature;

typedef struct Model
{
	char	   *name;
	TimestampTz trained_at;
	double		prior;			/* log(P / N) */
	int32		positives;
	int32		negatives;
	int			nfeatures;
	ModelFeature *features;
} Model;

/* Order of categories: by length, then bytes (as jsonb orders keys). */
static int
category_cmp(const void *a, const void *b)
{
	const ModelCategory *x = a;
	const ModelCategory *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->text, y->text, x->len);
}

/*
 * Smoothed log-likelihood ratio of a slot seen pos and neg times.  A slot
 * training never saw (an unseen category, missing values of a feature
 * that was always present) carries no evidence: 0.  Smoothing alone would
 * give it log((N + K) / (P + K)), a push toward the smaller class that
 * says nothing about the lead.
 */
static double
slot_llr(double pos, double neg, double positives, double negatives, int nslots)
{
	if (pos == 0 && neg == 0)
		return 0.0;
	return log((pos + 1.0) / (positives + nslots)) -
		log((neg + 1.0) / (negatives + nslots));
}

/* Which slot of the feature the value falls in; its llr, and a label. */
static double
feature_llr(const ModelFeature *f, const FeatureValue *v, char **label)
{
	if (!v->present)
	{
		if (label)
			*label = pstrdup("missing");
		return f->missing_llr;
	}
	if (f->numeric)
	{
		int			lo = 0,
					hi = f->ncuts;

		if (!v->is_number)
		{
			if (label)
				*label = psprintf("not a number: \"%.*s\"", v->text_len, v->text);
			return f->unseen_llr;
		}
		/* the bin: how many cuts are <= the value */
		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (f->cuts[mid] <= v->number)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (label)
			*label = psprintf("%g in bin %d of %d [%s, %s)", v->number, lo + 1, f->ncuts + 1,
							  lo == 0 ? "-inf" : float8out_internal(f->cuts[lo - 1]),
							  lo == f->ncuts ? "inf" : float8out_internal(f->cuts[lo]));
		return f->bin_llr[lo];
	}
	else
	{
		ModelCategory key = {v->text, v->text_len, 0};
		ModelCategory *hit = bsearch(&key, f->categories, f->ncategories,
									 sizeof(ModelCategory), category_cmp);

		if (label)
			*label = psprintf(hit ? "\"%.*s\"" : "unseen value \"%.*s\"",
							  v->text_len, v->text);
		return hit ? hit->llr : f->unseen_llr;
	}
}

static double
model_log_odds(const Model *m, const RoutingDoc *doc)
{
	double		log_odds = m->prior;

	for (int i = 0; i < m->nfeatures; i++)
	{
		FeatureValue v;

		feature_value(doc, m->features[i].name, m->features[i].name_len, &v);
		log_odds += feature_llr(&m->features[i], &v, NULL);
	}
	return log_odds;
}

static double
logistic(double log_odds)
{
	return 1.0 / (1.0 + exp(-log_odds));
}

/* ----- reading params (the counts) back ----- */

static JsonbValue *
params_get(JsonbContainer *obj, const char *key, enum jbvType type)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL || v->type != type)
		elog(ERROR, "leadflow: model params lack \"%s\"", key);
	return v;
}

static double
params_number(JsonbValue *v)
{
	if (v == NULL || v->type != jbvNumeric)
		elog(ERROR, "leadflow: model params hold a non-number where a count belongs");
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* A [pos, neg] pair's llr. */
static double
pair_llr(JsonbValue *pair, const Model *m, int nslots)
{
	JsonbContainer *c;

	if (pair->type != jbvBinary)
		elog(ERROR, "leadflow: model params hold a malformed count pair");
	c = pair->val.binary.data;
	return slot_llr(params_number(getIthJsonbValueFromContainer(c, 0)),
					params_number(getIthJsonbValueFromContainer(c, 1)),
					m->positives, m->negatives, nslots);
}

static void
load_categorical(ModelFeature *f, JsonbContainer *fobj, const Model *m)
{
	JsonbContainer *values = params_get(fobj, "values", jbvBinary)->val.binary.data;
	int			nslots = JsonContainerSize(values) + 2;	/* + missing, unseen */
	JsonbIterator *it = JsonbIteratorInit(values);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n = 0;

	f->categories = palloc(sizeof(ModelCategory) * Max(JsonContainerSize(values), 1));
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			f->categories[n].text = pnstrdup(v.val.string.val, v.val.string.len);
			f->categories[n].len = v.val.string.len;
		}
		else if (tok == WJB_VALUE)
			f->categories[n++].llr = pair_llr(&v, m, nslots);
	}
	f->ncategories = n;
	qsort(f->categories, n, sizeof(ModelCategory), category_cmp);
	f->missing_llr = pair_llr(params_get(fobj, "missing", jbvBinary), m, nslots);
	f->unseen_llr = slot_llr(0, 0, m->positives, m->negatives, nslots);
}

static void
load_numeric(ModelFeature *f, JsonbContainer *fobj, const Model *m)
{
	JsonbContainer *cuts = params_get(fobj, "cuts", jbvBinary)->val.binary.data;
	JsonbContainer *bins = params_get(fobj, "bins", jbvBinary)->val.binary.data;
	int			nslots;

	f->ncuts = JsonContainerSize(cuts);
	if ((int) JsonContainerSize(bins) != f->ncuts + 1)
		elog(ERROR, "leadflow: model params of \"%s\" have %d bins for %d cuts",
			 f->name, JsonContainerSize(bins), f->ncuts);
	nslots = f->ncuts + 3;		/* bins, missing, other */
	f->cuts = palloc(sizeof(double) * Max(f->ncuts, 1));
	f->bin_llr = palloc(sizeof(double) * (f->ncuts + 1));
	for (int i = 0; i < f->ncuts; i++)
		f->cuts[i] = params_number(getIthJsonbValueFromContainer(cuts, i));
	for (int i = 0; i <= f->ncuts; i++)
		f->bin_llr[i] = pair_llr(getIthJsonbValueFromContainer(bins, i), m, nslots);
	f->missing_llr = pair_llr(params_get(fobj, "missing", jbvBinary), m, nslots);
	f->unseen_llr = pair_llr(params_get(fobj, "other", jbvBinary), m, nslots);
}

/* Build a Model (in the current memory context) from its stored params. */
static Model *
model_from_params(const char *name, TimestampTz trained_at, Jsonb *params)
{
	Model	   *m = palloc0(sizeof(Model));
	JsonbContainer *features;

	m->name = pstrdup(name);
	m->trained_at = trained_at;
	m->positives = (int32) params_number(params_get(&params->root, "positives", jbvNumeric));
	m->negatives = (int32) params_number(params_get(&params->root, "negatives", jbvNumeric));
	m->prior = log((double) m->positives / m->negatives);
	features = params_get(&params->root, "features", jbvBinary)->val.binary.data;
	m->nfeatures = JsonContainerSize(features);
	m->features = palloc0(sizeof(ModelFeature) * Max(m->nfeatures, 1));
	for (int i = 0; i < m->nfeatures; i++)
	{
		JsonbValue *fv = getIthJsonbValueFromContainer(features, i);
		JsonbContainer *fobj = fv->val.binary.data;
		JsonbValue *fname = params_get(fobj, "name", jbvString);
		JsonbValue *kind = params_get(fobj, "kind", jbvString);
		ModelFeature *f = &m->features[i];

		f->name = pnstrdup(fname->val.string.val, fname->val.string.len);
		f->name_len = fname->val.string.len;
		f->numeric = kind->val.string.len == 7 &&
			memcmp(kind->val.string.val, "numeric", 7) == 0;
		if (f->numeric)
			load_numeric(f, fobj, m);
		else
			load_categorical(f, fobj, m);
	}
	return m;
}

/* ----------------------------------------------------------------------
 * The per-backend cache of models
 * ----------------------------------------------------------------------
 */

typedef struct CachedModel
{
	struct CachedModel *next;
	char	   *name;
	Model	   *model;			/* NULL: no model of this name exists */
	MemoryContext context;		/* holds this entry and its model */
} CachedModel;

static CachedModel *cached_models = NULL;
static bool models_stale = false;
static Oid	model_relid = InvalidOid;
static SPIPlanPtr newest_model_plan = NULL;

static void
models_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == model_relid)
		models_stale = true;
}

void
predict_init(void)
{
	CacheRegisterRelcacheCallback(models_invalidate, (Datum) 0);
}

static void
models_forget(void)
{
	while (cached_models != NULL)
	{
		CachedModel *next = cached_models->next;

		MemoryContextDelete(cached_models->context);
		cached_models = next;
	}
	models_stale = false;
}

/* Read the newest version of name into a new cache entry. */
static CachedModel *
model_load(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext context;
	CachedModel *entry;

	model_relid = get_relname_relid("model", get_namespace_oid("leadflow", false));
	if (SPI_execute_plan(leadflow_plan(&newest_model_plan,
									   "SELECT trained_at, params FROM leadflow.model"
									   " WHERE name = $1 ORDER BY trained_at DESC LIMIT 1",
									   1, argtypes),
						 args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: could not read leadflow.model");

	context = AllocSetContextCreate(TopMemoryContext, "leadflow model",
									ALLOCSET_SMALL_SIZES);
	PG_TRY();
	{
		MemoryContextSwitchTo(context);
		entry = palloc0(sizeof(CachedModel));
		entry->context = context;
		entry->name = pstrdup(name);
		if (SPI_processed > 0)
		{
			bool		isnull;
			HeapTuple	t = SPI_tuptable->vals[0];
			TimestampTz at = DatumGetTimestampTz(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
			Jsonb	   *params = DatumGetJsonbP(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));

			entry->model = model_from_params(name, at, params);
		}
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(caller);
		MemoryContextDelete(context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	return entry;
}

/* The newest model of that name, or NULL.  Caller connected to SPI. */
static Model *
model_lookup(const char *name)
{
	CachedModel *entry;

	if (models_stale)
		models_forget();
	for (entry = cached_models; entry != NULL; entry = entry->next)
		if (strcmp(entry->name, name) == 0)
			return entry->model;
	entry = model_load(name);
	entry->next = cached_models;
	cached_models = entry;
	return entry->model;
}

static Model *
model_or_error(const char *name)
{
	Model	   *m = model_lookup(name);

	if (m == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", name),
				 errhint("Train it first: SELECT * FROM leadflow.train(ARRAY['feature', ...], '%s');",
						 name)));
	return m;
}

bool
predict_default_model(const RoutingDoc *doc, double *p)
{
	Model	   *m = model_lookup(DEFAULT_MODEL);

	if (m == NULL)
		return false;
	*p = logistic(model_log_odds(m, doc));
	return true;
}

void
predict_explain(const RoutingDoc *doc, ExplainRowFn emit, void *arg)
{
	Model	   *m = model_lookup(DEFAULT_MODEL);
	double		log_odds;

	if (m == NULL)
		return;
	log_odds = m->prior;
	emit(arg, "prediction", "prior",
		 psprintf("log(%d positives / %d negatives)", m->positives, m->negatives),
		 m->prior);
	for (int i = 0; i < m->nfeatures; i++)
	{
		FeatureValue v;
		char	   *label;
		double		llr;

		feature_value(doc, m->features[i].name, m->features[i].name_len, &v);
		llr = feature_llr(&m->features[i], &v, &label);
		log_odds += llr;
		emit(arg, "prediction", m->features[i].name, label, llr);
	}
	emit(arg, "prediction", "total",
		 psprintf("log-odds; probability %.4f (model \"%s\" trained at %s)",
				  logistic(log_odds), m->name, timestamptz_to_str(m->trained_at)),
		 log_odds);
}

PG_FUNCTION_INFO_V1(leadflow_predict);

/* leadflow.predict(doc jsonb, model text DEFAULT 'default') → float8 */
Datum
leadflow_predict(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc = PG_GETARG_JSONB_P(0);
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	RoutingDoc	rdoc = {0};
	Model	   *m;

	if (!JB_ROOT_IS_OBJECT(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a routing document must be a JSON object")));
	rdoc.attrs = &doc->root;
	SPI_connect();
	m = model_or_error(name);
	SPI_finish();
	/* the cached model lives on after SPI_finish */
	PG_RETURN_FLOAT8(logistic(model_log_odds(m, &rdoc)));
}

/* ----------------------------------------------------------------------
 * Training
 * ----------------------------------------------------------------------
 */

/* A distinct text value of a feature, and its code. */
typedef struct CategoryKey
{
	const char *text;
	int			len;
} CategoryKey;

typedef struct CategoryEntry
{
	CategoryKey key;
	int32		code;
} CategoryEntry;

static uint32
category_hash(const void *key, Size keysize)
{
	const CategoryKey *k = key;

	return hash_bytes((const unsigned char *) k->text, k->len);
}

static int
category_match(const void *a, const void *b, Size keysize)
{
	const CategoryKey *x = a;
	const CategoryKey *y = b;

	return x->len == y->len && memcmp(x->text, y->text, x->len) == 0 ? 0 : 1;
}

/* One lead's value of one feature, as training keeps it. */
typedef struct Observation
{
	int32		code;			/* category code; -1 = missing */
	bool		is_number;
	double		number;
} Observation;

typedef struct TrainFeature
{
	char	   *name;
	int			name_len;
	HTAB	   *codes;			/* text -> code */
	CategoryKey *texts;			/* code -> text */
	int			ncodes;
	int			texts_size;
	int64		present;
	int64		numbers;
	bool		numeric;		/* decided once all leads are read */
	double	   *cuts;
	int			ncuts;
	int			nslots;
	int64	   *pos;			/* per slot */
	int64	   *neg;
	double	   *llr;
} TrainFeature;

/*
 * Slots of a trained feature: categorical 0..ncodes-1, then missing, then
 * unseen; numeric 0..ncuts (bins), then missing, then other.
 */
static int
missing_slot(const TrainFeature *f)
{
	return f->numeric ? f->ncuts + 1 : f->ncodes;
}

static int
observation_slot(const TrainFeature *f, const Observation *o)
{
	int			lo = 0,
				hi = f->ncuts;

	if (o->code < 0)
		return missing_slot(f);
	if (!f->numeric)
		return o->code;
	if (!o->is_number)
		return missing_slot(f) + 1;
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (f->cuts[mid] <= o->number)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

typedef struct TrainingSet
{
	int			nfeatures;
	TrainFeature *features;
	int64		nrows;
	int64		rows_size;
	bool	   *positive;		/* per row */
	Observation *obs;			/* nrows x nfeatures */
	int64		positives;
	int64		negatives;
} TrainingSet;

/* Code of a text value, interning it in the training context. */
static int32
intern(TrainFeature *f, const char *text, int len, MemoryContext keep)
{
	CategoryKey key = {text, len};
	bool		found;
	CategoryEntry *e = hash_search(f->codes, &key, HASH_ENTER, &found);

	if (!found)
	{
		/* the probe key points at per-row memory: keep a copy */
		char	   *copy = MemoryContextAlloc(keep, len + 1);

		memcpy(copy, text, len);
		copy[len] = '\0';
		e->key.text = copy;
		e->key.len = len;
		e->code = f->ncodes;
		if (f->ncodes == f->texts_size)
		{
			f->texts_size *= 2;
			f->texts = repalloc(f->texts, sizeof(CategoryKey) * f->texts_size);
		}
		f->texts[f->ncodes++] = e->key;
	}
	return e->code;
}

static void
observe_row(TrainingSet *ts, const RoutingDoc *doc, bool positive, MemoryContext keep)
{
	Observation *row;

	if (ts->nrows == ts->rows_size)
	{
		ts->rows_size *= 2;
		ts->positive = repalloc_huge(ts->positive, sizeof(bool) * ts->rows_size);
		ts->obs = repalloc_huge(ts->obs,
								sizeof(Observation) * ts->rows_size * ts->nfeatures);
	}
	ts->positive[ts->nrows] = positive;
	row = &ts->obs[ts->nrows * ts->nfeatures];
	for (int i = 0; i < ts->nfeatures; i++)
	{
		TrainFeature *f = &ts->features[i];
		FeatureValue v;

		feature_value(doc, f->name, f->name_len, &v);
		row[i].code = -1;
		if (!v.present)
			continue;
		f->present++;
		row[i].code = intern(f, v.text, v.text_len, keep);
		row[i].is_number = v.is_number;
		row[i].number = v.number;
		f->numbers += v.is_number;
	}
	ts->nrows++;
	if (positive)
		ts->positives++;
	else
		ts->negatives++;
}

static SPIPlanPtr closed_leads_plan = NULL;
static SPIPlanPtr save_model_plan = NULL;

/* Read every closed lead's features (train runs in its own context). */
static void
read_closed_leads(TrainingSet *ts)
{
	MemoryContext keep = CurrentMemoryContext;
	MemoryContext per_row = AllocSetContextCreate(keep, "leadflow train row",
												  ALLOCSET_DEFAULT_SIZES);
	Portal		portal;

	portal = SPI_cursor_open(NULL,
							 leadflow_plan(&closed_leads_plan,
										   "SELECT attrs, source, campaign, company, country, email,"
										   " stage IN ('qualified', 'converted')"
										   " FROM leadflow.lead"
										   " WHERE stage IN ('qualified', 'converted', 'rejected')",
										   0, NULL),
							 NULL, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, TRAIN_FETCH);
		MemoryContextSwitchTo(keep);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	t = SPI_tuptable->vals[i];
			TupleDesc	d = SPI_tuptable->tupdesc;
			Datum		col[6];
			bool		isnull[6];
			RoutingDoc	doc;
			bool		positive;

			MemoryContextSwitchTo(per_row);
			for (int c = 0; c < 6; c++)
				col[c] = SPI_getbinval(t, d, c + 1, &isnull[c]);
			routing_doc_build(&doc,
							  isnull[0] ? NULL : DatumGetJsonbP(col[0]),
							  isnull[1] ? NULL : DatumGetTextPP(col[1]),
							  isnull[2] ? NULL : DatumGetTextPP(col[2]),
							  isnull[3] ? NULL : DatumGetTextPP(col[3]),
							  isnull[4] ? NULL : DatumGetTextPP(col[4]),
							  isnull[5] ? NULL : DatumGetTextPP(col[5]));
			positive = DatumGetBool(SPI_getbinval(t, d, 7, &isnull[0]));
			/* values' text forms are per-row garbage; intern() keeps copies */
			observe_row(ts, &doc, positive, keep);
			MemoryContextSwitchTo(keep);
			MemoryContextReset(per_row);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(per_row);
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* Quantile cuts of a numeric feature's numbers, duplicates dropped. */
static void
learn_cuts(TrainingSet *ts, int fi)
{
	TrainFeature *f = &ts->features[fi];
	double	   *values = palloc(sizeof(double) * Max(f->numbers, 1));
	int64		n = 0;

	for (int64 r = 0; r < ts->nrows; r++)
	{
		Observation *o = &ts->obs[r * ts->nfeatures + fi];

		if (o->code >= 0 && o->is_number)
			values[n++] = o->number;
	}
	qsort(values, n, sizeof(double), cmp_double);
	f->cuts = palloc(sizeof(double) * TRAIN_BINS);
	f->ncuts = 0;
	for (int k = 1; k < TRAIN_BINS; k++)
	{
		double		cut = values[(n * k) / TRAIN_BINS];

		/* a cut at the minimum would leave its lower bin empty */
		if (cut > values[0] && (f->ncuts == 0 || cut > f->cuts[f->ncuts - 1]))
			f->cuts[f->ncuts++] = cut;
	}
	pfree(values);
}

/* Decide each feature's kind, count its slots, and derive the llr. */
static void
count_slots(TrainingSet *ts)
{
	for (int fi = 0; fi < ts->nfeatures; fi++)
	{
		TrainFeature *f = &ts->features[fi];

		f->numeric = f->numbers >= NUMERIC_SHARE * f->present;
		if (f->numeric)
			learn_cuts(ts, fi);
		f->nslots = missing_slot(f) + 2;
		f->pos = palloc0(sizeof(int64) * f->nslots);
		f->neg = palloc0(sizeof(int64) * f->nslots);
		f->llr = palloc(sizeof(double) * f->nslots);
		for (int64 r = 0; r < ts->nrows; r++)
		{
			int			slot = observation_slot(f, &ts->obs[r * ts->nfeatures + fi]);

			if (ts->positive[r])
				f->pos[slot]++;
			else
				f->neg[slot]++;
		}
		for (int s = 0; s < f->nslots; s++)
			f->llr[s] = slot_llr(f->pos[s], f->neg[s], ts->positives, ts->negatives,
								 f->nslots);
	}
}

typedef struct ScoredRow
{
	double		score;
	bool		positive;
} ScoredRow;

static int
cmp_scored(const void *a, const void *b)
{
	return cmp_double(&((const ScoredRow *) a)->score, &((const ScoredRow *) b)->score);
}

/*
 * Area under the ROC curve, exactly: the Mann-Whitney statistic, with tied
 * scores given their average rank (a tie counts one half).
 */
static double
exact_auc(ScoredRow *rows, int64 n, int64 positives, int64 negatives)
{
	double		rank_sum = 0;
	int64		i = 0;

	qsort(rows, n, sizeof(ScoredRow), cmp_scored);
	while (i < n)
	{
		int64		j = i;
		int64		tied_positives = 0;

		while (j < n && rows[j].score == rows[i].score)
			tied_positives += rows[j++].positive;
		/* ranks i+1 .. j share their mean */
		rank_sum += tied_positives * ((double) (i + 1 + j) / 2.0);
		i = j;
	}
	return (rank_sum - (double) positives * (positives + 1) / 2.0) /
		((double) positives * negatives);
}

static double
training_auc(TrainingSet *ts)
{
	ScoredRow  *rows = palloc_extended(sizeof(ScoredRow) * Max(ts->nrows, 1), MCXT_ALLOC_HUGE);
	double		prior = log((double) ts->positives / ts->negatives);
	double		auc;

	for (int64 r = 0; r < ts->nrows; r++)
	{
		double		score = prior;

		for (int fi = 0; fi < ts->nfeatures; fi++)
		{
			TrainFeature *f = &ts->features[fi];

			score += f->llr[observation_slot(f, &ts->obs[r * ts->nfeatures + fi])];
		}
		rows[r].score = score;
		rows[r].positive = ts->positive[r];
	}
	auc = exact_auc(rows, ts->nrows, ts->positives, ts->negatives);
	pfree(rows);
	return auc;
}

static void
append_pair(StringInfo s, int64 pos, int64 neg)
{
	appendStringInfo(s, "[" INT64_FORMAT ", " INT64_FORMAT "]", pos, neg);
}

/* The counts as the params jsonb (see load_categorical, load_numeric). */
static Jsonb *
params_jsonb(TrainingSet *ts)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"positives\": " INT64_FORMAT ", \"negatives\": " INT64_FORMAT
					 ", \"alpha\": 1, \"features\": [",
					 ts->positives, ts->negatives);
	for (int fi = 0; fi < ts->nfeatures; fi++)
	{
		TrainFeature *f = &ts->features[fi];
		int			missing = missing_slot(f);

		appendStringInfoString(&s, fi ? ", {\"name\": " : "{\"name\": ");
		escape_json(&s, f->name);
		if (f->numeric)
		{
			appendStringInfoString(&s, ", \"kind\": \"numeric\", \"cuts\": [");
			for (int c = 0; c < f->ncuts; c++)
				appendStringInfo(&s, "%s%s", c ? ", " : "", float8out_internal(f->cuts[c]));
			appendStringInfoString(&s, "], \"bins\": [");
			for (int b = 0; b <= f->ncuts; b++)
			{
				if (b)
					appendStringInfoString(&s, ", ");
				append_pair(&s, f->pos[b], f->neg[b]);
			}
			appendStringInfoString(&s, "], \"other\": ");
			append_pair(&s, f->pos[missing + 1], f->neg[missing + 1]);
		}
		else
		{
			appendStringInfoString(&s, ", \"kind\": \"categorical\", \"values\": {");
			for (int c = 0; c < f->ncodes; c++)
			{
				if (c)
					appendStringInfoString(&s, ", ");
				escape_json(&s, pnstrdup(f->texts[c].text, f->texts[c].len));
				appendStringInfoString(&s, ": ");
				append_pair(&s, f->pos[c], f->neg[c]);
			}
			appendStringInfoString(&s, "}");
		}
		appendStringInfoString(&s, ", \"missing\": ");
		append_pair(&s, f->pos[missing], f->neg[missing]);
		appendStringInfoString(&s, "}");
	}
	appendStringInfoString(&s, "]}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* The features argument: a non-empty array of distinct, non-blank names. */
static void
setup_features(TrainingSet *ts, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a one-dimensional array of document keys")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must not be empty"),
				 errhint("Name keys of the routing document: attrs keys, source, campaign, company, country, domain.")));
	/* each feature costs a column per training row and a hash table */
	if (n > TRAIN_MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features: %d", n),
				 errdetail("A model has at most %d features.", TRAIN_MAX_FEATURES),
				 errhint("Choose the features that matter, e.g. by forward selection on a validation set.")));
	ts->nfeatures = n;
	ts->features = palloc0(sizeof(TrainFeature) * n);
	for (int i = 0; i < n; i++)
	{
		TrainFeature *f = &ts->features[i];
		HASHCTL		ctl;

		if (nulls[i] || VARSIZE_ANY_EXHDR(DatumGetTextPP(elems[i])) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d is %s", i + 1, nulls[i] ? "NULL" : "empty"),
					 errhint("Name keys of the routing document: attrs keys, source, campaign, company, country, domain.")));
		f->name = TextDatumGetCString(elems[i]);
		f->name_len = strlen(f->name);
		for (int j = 0; j < i; j++)
			if (strcmp(ts->features[j].name, f->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("feature \"%s\" is listed twice", f->name)));
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(CategoryKey);
		ctl.entrysize = sizeof(CategoryEntry);
		ctl.hash = category_hash;
		ctl.match = category_match;
		ctl.hcxt = CurrentMemoryContext;
		f->codes = hash_create("leadflow train categories", 64, &ctl,
							   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		f->texts_size = 16;
		f->texts = palloc(sizeof(CategoryKey) * f->texts_size);
	}
}

/* Errors for a training set that cannot give a model. */
static void
check_training_set(TrainingSet *ts)
{
	StringInfoData absent;
	int			nabsent = 0;

	if (ts->positives == 0 || ts->negatives == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(ts->nrows == 0 ? "there are no closed leads to train on"
						: "the closed leads have only one outcome"),
				 errdetail("Positives (qualified or converted): " INT64_FORMAT
						   ", negatives (rejected): " INT64_FORMAT ".",
						   ts->positives, ts->negatives),
				 errhint("Training needs leads of both outcomes: close leads as qualified or converted, and as rejected (imported history counts).")));
	initStringInfo(&absent);
	for (int i = 0; i < ts->nfeatures; i++)
		if (ts->features[i].present == 0)
		{
			appendStringInfoString(&absent, nabsent++ ? ", " : "");
			escape_json(&absent, ts->features[i].name);
		}
	if (nabsent > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg_plural("feature %s does not occur in any closed lead",
							   "features %s do not occur in any closed lead",
							   nabsent, absent.data),
				 errhint("Features are keys of the routing document: attrs keys, source, campaign, company, country, domain.")));
}

/* Insert (or, trained again at the same moment, replace) the version. */
static void
save_model(const char *name, TimestampTz trained_at, ArrayType *features,
		   Jsonb *params, TrainingSet *ts, double auc)
{
	Oid			argtypes[7] = {TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID, JSONBOID,
	INT4OID, INT4OID, FLOAT8OID};
	Datum		args[7];

	args[0] = CStringGetTextDatum(name);
	args[1] = TimestampTzGetDatum(trained_at);
	args[2] = PointerGetDatum(features);
	args[3] = JsonbPGetDatum(params);
	args[4] = Int32GetDatum((int32) ts->positives);
	args[5] = Int32GetDatum((int32) ts->negatives);
	args[6] = Float8GetDatum(auc);
	if (SPI_execute_plan(leadflow_plan(&save_model_plan,
									   "INSERT INTO leadflow.model"
									   " (name, trained_at, features, params, positives, negatives, auc)"
									   " VALUES ($1, $2, $3, $4, $5, $6, $7)"
									   " ON CONFLICT (name, trained_at) DO UPDATE"
									   " SET features = EXCLUDED.features, params = EXCLUDED.params,"
									   " positives = EXCLUDED.positives,"
									   " negatives = EXCLUDED.negatives, auc = EXCLUDED.auc",
									   7, argtypes),
						 args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not store model \"%s\"", name);
}

PG_FUNCTION_INFO_V1(leadflow_train);

/*
 * leadflow.train(features text[], model text DEFAULT 'default')
 * → TABLE(model, trained_at, positives, negatives, features, parameters, auc)
 */
Datum
leadflow_train(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller;
	MemoryContext work;
	char	   *name;
	ArrayType  *features;
	TrainingSet ts;
	Jsonb	   *params;
	double		auc;
	int64		parameters = 1; /* the prior */
	TimestampTz trained_at = leadflow_now();
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must not be NULL"),
				 errhint("Name keys of the routing document: attrs keys, source, campaign, company, country, domain.")));
	if (PG_ARGISNULL(1) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model needs a name")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strlen(name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name \"%s\" is too long", leadflow_quote_clip(name)),
				 errdetail("A model name has at most %d bytes.", NAMEDATALEN - 1)));
	features = PG_GETARG_ARRAYTYPE_P(0);

	caller = CurrentMemoryContext;
	work = AllocSetContextCreate(caller, "leadflow train", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	memset(&ts, 0, sizeof(ts));
	setup_features(&ts, features);
	ts.rows_size = 1024;
	ts.positive = palloc(sizeof(bool) * ts.rows_size);
	ts.obs = palloc(sizeof(Observation) * ts.rows_size * ts.nfeatures);

	SPI_connect();
	MemoryContextSwitchTo(work);
	read_closed_leads(&ts);
	check_training_set(&ts);
	count_slots(&ts);
	auc = training_auc(&ts);
	params = params_jsonb(&ts);
	save_model(name, trained_at, features, params, &ts, auc);
	SPI_finish();

	for (int i = 0; i < ts.nfeatures; i++)
		parameters += ts.features[i].nslots;
	MemoryContextSwitchTo(caller);
	values[0] = CStringGetTextDatum(name);
	values[1] = TimestampTzGetDatum(trained_at);
	values[2] = Int32GetDatum((int32) ts.positives);
	values[3] = Int32GetDatum((int32) ts.negatives);
	values[4] = Int32GetDatum(ts.nfeatures);
	values[5] = Int32GetDatum((int32) parameters);
	values[6] = Float8GetDatum(auc);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	MemoryContextDelete(work);
	return (Datum) 0;
}
