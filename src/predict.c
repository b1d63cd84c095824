/*
 * predict.c
 *	  Predictive models in memory: the stored params of leadflow.model made
 *	  into a sum of weights, cached per backend, applied by leadflow.predict
 *	  and explained by explain_score.  Training, and the refresh of
 *	  lead.predicted, are train.c.
 *
 * A model is a sum of one weight per slot, in log-odds: each feature's
 * value falls into exactly one slot (a category, a quantile bin, missing,
 * or "other"/unseen), and the prediction is the logistic of the intercept
 * plus the weights of the document's slots.  Whatever the kind -- logistic
 * regression, or naive Bayes with its calibration folded into its
 * weights -- predict does the same few lookups, and explain_score lists
 * the same additive terms.
 *
 * Features are keys of the routing document (attrs plus source, campaign,
 * company, country, domain), read as matching reads them (feature_value).
 *
 * params (format 2, written by train.c):
 *	{"format": 2, "kind": "logistic" | "naive_bayes", "intercept": b,
 *	 "positives": P, "negatives": N,
 *	 logistic: "l2": l, "iterations": k, "converged": true,
 *	 naive_bayes: "alpha": 1, "prior": log(P/N),
 *	 "features": [{"name": ..., "scale": a (naive_bayes), "kind": "categorical",
 *	               "values": {"text": [w, pos, neg], ...}, "missing": [w, pos, neg]},
 *	              {"name": ..., "kind": "numeric", "cuts": [c1, ...],
 *	               "bins": [[w, pos, neg], ...], "missing": [...], "other": [...]}]}
 * each slot holding its weight and how many positive and negative
 * training leads fell into it.  A naive Bayes weight is its feature's
 * scale times the slot's log-likelihood ratio (see train.c).  An unseen category weighs 0.  1.1 wrote
 * naive Bayes counts only ([pos, neg] per slot, no "format"): those
 * models still load, as the uncalibrated naive Bayes they were.
 *
 * The cache: a statement trigger on leadflow.model (config_changed) sends
 * a relcache invalidation, so a new version is picked up without a query
 * per prediction.  predict has no SET search_path of its own (it would
 * cost a GUC save and restore per call); the only SQL it runs, loading a
 * model, runs under a search_path pinned here for just that moment.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include <float.h>
#include <math.h>

#include "predict.h"
#include "invalidation.h"
#include "logistic.h"
#include "matching.h"
#include "spi_plans.h"
#include "util.h"

/* ----------------------------------------------------------------------
 * Feature values
 * ----------------------------------------------------------------------
 */

/* Clamp an overflowed conversion to the largest double of its sign. */
static double
finite_or_largest(double v)
{
	return isinf(v) ? copysign(DBL_MAX, v) : v;
}

/*
 * A string in plain decimal notation -- optional sign, digits with an
 * optional point, optional exponent, blanks around -- and its value.  Not
 * hex ("0x40"), not "inf" or "nan", which strtod alone would take.
 */
static bool
parse_decimal(const char *s, int len, double *out)
{
	int			i = 0;
	int			digits = 0;
	char	   *copy;

	while (len > 0 && isspace((unsigned char) *s))
		s++, len--;
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < len && isdigit((unsigned char) s[i]); i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && isdigit((unsigned char) s[i]); i++)
			digits++;
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		int			exponent_digits = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < len && isdigit((unsigned char) s[i]); i++)
			exponent_digits++;
		if (exponent_digits == 0)
			return false;
	}
	if (i != len)
		return false;
	copy = pnstrdup(s, len);
	/* out of range: ERANGE with +-HUGE_VAL (clamped) or a tiny value (kept) */
	*out = finite_or_largest(strtod(copy, NULL));
	pfree(copy);
	return true;
}

void
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
			out->is_number = parse_decimal(out->text, out->text_len, &out->number);
			break;
		case jbvNumeric:
			/* jsonb holds no NaN or infinity; a huge one converts to +-inf */
			out->numeric = v.val.numeric;
			out->number = finite_or_largest(DatumGetFloat8(
															DirectFunctionCall1(numeric_float8_no_overflow,
																				NumericGetDatum(v.val.numeric))));
			out->is_number = true;
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

void
feature_value_text(FeatureValue *v)
{
	if (v->text == NULL && v->numeric != NULL)
	{
		/* trailing zeros dropped: 1.0, 1.00 and 1 are one category */
		v->text = numeric_normalize(v->numeric);
		v->text_len = strlen(v->text);
	}
}

/* ----------------------------------------------------------------------
 * A model in memory
 * ----------------------------------------------------------------------
 */

typedef struct ModelCategory
{
	const char *text;
	int			len;
	double		weight;
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
	double	   *bin_weight;		/* ncuts + 1 */
	double		missing_weight;
	double		other_weight;	/* numeric: not a number; categorical: unseen (0) */
	double		scale;			/* naive Bayes: weight / log-likelihood ratio */
} ModelFeature;

struct Model
{
	char	   *name;
	TimestampTz trained_at;
	char	   *kind;			/* "logistic" or "naive_bayes" */
	bool		legacy;			/* 1.1 params: uncalibrated naive Bayes */
	double		intercept;
	double		prior;			/* naive Bayes: log(P / N) */
	double		l2;				/* logistic */
	int32		positives;
	int32		negatives;
	int			nfeatures;
	ModelFeature *features;
};

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
 * Smoothing alone would give a slot without leads log((N + K) / (P + K)),
 * a push toward the smaller class that says nothing about the lead: such
 * a slot (an unseen category, missing values of a feature that was always
 * present) carries no evidence instead.
 */
double
naive_bayes_llr(double pos, double neg, double positives, double negatives, int nslots)
{
	if (pos == 0 && neg == 0)
		return 0.0;
	return log((pos + 1.0) / (positives + nslots)) -
		log((neg + 1.0) / (negatives + nslots));
}

int
numeric_bin(const double *cuts, int ncuts, double value)
{
	int			lo = 0,
				hi = ncuts;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cuts[mid] <= value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Which slot of the feature the value falls in; its weight, and a label. */
static double
feature_weight(const ModelFeature *f, FeatureValue *v, char **label)
{
	if (!v->present)
	{
		if (label)
			*label = pstrdup("missing");
		return f->missing_weight;
	}
	if (f->numeric)
	{
		int			lo;

		if (!v->is_number)
		{
			if (label)
				*label = psprintf("not a number: \"%.*s\"", v->text_len, v->text);
			return f->other_weight;
		}
		lo = numeric_bin(f->cuts, f->ncuts, v->number);
		if (label)
			*label = psprintf("%g in bin %d of %d [%s, %s)", v->number, lo + 1, f->ncuts + 1,
							  lo == 0 ? "-inf" : float8out_internal(f->cuts[lo - 1]),
							  lo == f->ncuts ? "inf" : float8out_internal(f->cuts[lo]));
		return f->bin_weight[lo];
	}
	else
	{
		ModelCategory key;
		ModelCategory *hit;

		feature_value_text(v);
		key.text = v->text;
		key.len = v->text_len;
		hit = bsearch(&key, f->categories, f->ncategories, sizeof(ModelCategory),
					  category_cmp);
		if (label)
			*label = psprintf(hit ? "\"%.*s\"" : "unseen value \"%.*s\"",
							  v->text_len, v->text);
		return hit ? hit->weight : f->other_weight;
	}
}

double
model_log_odds(const Model *m, const RoutingDoc *doc)
{
	double		log_odds = m->intercept;

	for (int i = 0; i < m->nfeatures; i++)
	{
		FeatureValue v;

		feature_value(doc, m->features[i].name, m->features[i].name_len, &v);
		log_odds += feature_weight(&m->features[i], &v, NULL);
	}
	return log_odds;
}

/* ----- reading params back ----- */

static void params_malformed(const Model *m, const char *what) pg_attribute_noreturn();

static void
params_malformed(const Model *m, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model \"%s\" has malformed params: %s", m->name, what),
			 errhint("params are written by leadflow.train; train the model again.")));
}

static JsonbValue *
params_get(const Model *m, JsonbContainer *obj, const char *key, enum jbvType type)
{
	JsonbValue *v = getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);

	if (v == NULL || v->type != type)
		params_malformed(m, psprintf("\"%s\" is missing or of the wrong type", key));
	return v;
}

static double
params_number(const Model *m, JsonbValue *v)
{
	double		d;

	if (v == NULL || v->type != jbvNumeric)
		params_malformed(m, "a number is missing");
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(v->val.numeric)));
	if (!isfinite(d))
		params_malformed(m, "a number is out of range");
	return d;
}

static JsonbContainer *
params_array(const Model *m, JsonbValue *v)
{
	if (v == NULL || v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		params_malformed(m, "an array is missing");
	return v->val.binary.data;
}

/*
 * A slot's weight: [w, pos, neg] since 1.2; 1.1's [pos, neg] counts give
 * their naive Bayes log-likelihood ratio over the feature's nslots.
 */
static double
slot_weight(const Model *m, JsonbValue *slot, int nslots)
{
	JsonbContainer *c = params_array(m, slot);

	if (m->legacy)
		return naive_bayes_llr(params_number(m, getIthJsonbValueFromContainer(c, 0)),
							   params_number(m, getIthJsonbValueFromContainer(c, 1)),
							   m->positives, m->negatives, nslots);
	return params_number(m, getIthJsonbValueFromContainer(c, 0));
}

static void
load_categorical(const Model *m, ModelFeature *f, JsonbContainer *fobj)
{
	JsonbContainer *values = params_get(m, fobj, "values", jbvBinary)->val.binary.data;
	int			nslots = JsonContainerSize(values) + 2;	/* + missing, unseen */
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n = 0;

	if (!JsonContainerIsObject(values))
		params_malformed(m, "\"values\" is not an object");
	f->categories = palloc(sizeof(ModelCategory) * Max(JsonContainerSize(values), 1));
	it = JsonbIteratorInit(values);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			f->categories[n].text = pnstrdup(v.val.string.val, v.val.string.len);
			f->categories[n].len = v.val.string.len;
		}
		else if (tok == WJB_VALUE)
			f->categories[n++].weight = slot_weight(m, &v, nslots);
	}
	f->ncategories = n;
	qsort(f->categories, n, sizeof(ModelCategory), category_cmp);
	f->missing_weight = slot_weight(m, params_get(m, fobj, "missing", jbvBinary), nslots);
	f->other_weight = 0.0;		/* an unseen category: no evidence */
}

static void
load_numeric(const Model *m, ModelFeature *f, JsonbContainer *fobj)
{
	JsonbContainer *cuts = params_array(m, params_get(m, fobj, "cuts", jbvBinary));
	JsonbContainer *bins = params_array(m, params_get(m, fobj, "bins", jbvBinary));
	int			nslots;

	f->ncuts = JsonContainerSize(cuts);
	if ((int) JsonContainerSize(bins) != f->ncuts + 1)
		params_malformed(m, psprintf("\"%s\" has %d bins for %d cuts",
									 f->name, JsonContainerSize(bins), f->ncuts));
	nslots = f->ncuts + 3;		/* bins, missing, other */
	f->cuts = palloc(sizeof(double) * Max(f->ncuts, 1));
	f->bin_weight = palloc(sizeof(double) * (f->ncuts + 1));
	for (int i = 0; i < f->ncuts; i++)
	{
		f->cuts[i] = params_number(m, getIthJsonbValueFromContainer(cuts, i));
		if (i > 0 && !(f->cuts[i] > f->cuts[i - 1]))
			params_malformed(m, psprintf("the cuts of \"%s\" are not increasing", f->name));
	}
	for (int i = 0; i <= f->ncuts; i++)
		f->bin_weight[i] = slot_weight(m, getIthJsonbValueFromContainer(bins, i), nslots);
	f->missing_weight = slot_weight(m, params_get(m, fobj, "missing", jbvBinary), nslots);
	f->other_weight = slot_weight(m, params_get(m, fobj, "other", jbvBinary), nslots);
}

static bool
string_is(JsonbValue *v, const char *s)
{
	return v->val.string.len == (int) strlen(s) &&
		memcmp(v->val.string.val, s, v->val.string.len) == 0;
}

/* The model-wide numbers: kind, intercept, and what explain shows. */
static void
load_header(Model *m, Jsonb *params)
{
	JsonbContainer *root = &params->root;
	JsonbValue *format;

	if (!JB_ROOT_IS_OBJECT(params))
		params_malformed(m, "not an object");
	m->positives = (int32) params_number(m, params_get(m, root, "positives", jbvNumeric));
	m->negatives = (int32) params_number(m, params_get(m, root, "negatives", jbvNumeric));
	if (m->positives <= 0 || m->negatives <= 0)
		params_malformed(m, "positives and negatives must be positive");
	m->prior = log((double) m->positives / m->negatives);
	format = getKeyJsonValueFromContainer(root, "format", 6, NULL);
	m->legacy = format == NULL;
	if (m->legacy)
	{
		m->kind = "naive_bayes";
		m->intercept = m->prior;
		return;
	}
	if (params_number(m, format) != MODEL_PARAMS_FORMAT)
		params_malformed(m, "unknown \"format\"");
	m->intercept = params_number(m, params_get(m, root, "intercept", jbvNumeric));
	if (string_is(params_get(m, root, "kind", jbvString), "logistic"))
	{
		m->kind = "logistic";
		m->l2 = params_number(m, params_get(m, root, "l2", jbvNumeric));
	}
	else if (string_is(params_get(m, root, "kind", jbvString), "naive_bayes"))
		m->kind = "naive_bayes";
	else
		params_malformed(m, "unknown \"kind\"");
}

Model *
model_from_params(const char *name, TimestampTz trained_at, Jsonb *params)
{
	Model	   *m = palloc0(sizeof(Model));
	JsonbContainer *features;

	m->name = pstrdup(name);
	m->trained_at = trained_at;
	load_header(m, params);
	features = params_array(m, params_get(m, &params->root, "features", jbvBinary));
	m->nfeatures = JsonContainerSize(features);
	m->features = palloc0(sizeof(ModelFeature) * Max(m->nfeatures, 1));
	for (int i = 0; i < m->nfeatures; i++)
	{
		JsonbValue *fv = getIthJsonbValueFromContainer(features, i);
		JsonbContainer *fobj;
		JsonbValue *fname;
		ModelFeature *f = &m->features[i];

		if (fv->type != jbvBinary || !JsonContainerIsObject(fv->val.binary.data))
			params_malformed(m, "a feature is not an object");
		fobj = fv->val.binary.data;
		fname = params_get(m, fobj, "name", jbvString);
		f->name = pnstrdup(fname->val.string.val, fname->val.string.len);
		f->name_len = fname->val.string.len;
		f->numeric = string_is(params_get(m, fobj, "kind", jbvString), "numeric");
		f->scale = 1.0;
		if (!m->legacy && strcmp(m->kind, "naive_bayes") == 0)
			f->scale = params_number(m, params_get(m, fobj, "scale", jbvNumeric));
		if (f->numeric)
			load_numeric(m, f, fobj);
		else
			load_categorical(m, f, fobj);
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
models_invalidate(Oid relid)
{
	if (relid == InvalidOid || relid == model_relid)
		models_stale = true;
}

void
predict_init(void)
{
	leadflow_on_relcache(models_invalidate);
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

/*
 * Pin search_path for the SQL that follows, as a SET clause would, until
 * AtEOXact_GUC(true, the returned level); an error unwinds it with the
 * (sub)transaction.  Nothing a role puts in public or pg_temp can then
 * stand in for what the statement names.
 */
static int
pin_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, leadflow, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
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
	int			nestlevel;

	SPI_connect();
	nestlevel = pin_search_path();
	model_relid = get_relname_relid("model", get_namespace_oid("leadflow", false));
	if (SPI_execute_plan(leadflow_plan(&newest_model_plan,
									   "SELECT trained_at, params FROM leadflow.model"
									   " WHERE name OPERATOR(pg_catalog.=) $1"
									   " ORDER BY trained_at DESC LIMIT 1",
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
	AtEOXact_GUC(true, nestlevel);
	SPI_finish();
	return entry;
}

/*
 * The newest model of that name, or NULL.  Runs SQL only on a cache miss.
 * That a name has no model is remembered for 'default' only (the INSERT
 * trigger asks for every lead); other misses are errors, and a cache of
 * every name anyone tried would only grow.
 */
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
	if (entry->model == NULL && strcmp(name, DEFAULT_MODEL) != 0)
	{
		MemoryContextDelete(entry->context);
		return NULL;
	}
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
				 errmsg("model \"%s\" does not exist", leadflow_quote_clip(name)),
				 errhint("Train it first: SELECT * FROM leadflow.train(ARRAY['feature', ...], '%s');",
						 leadflow_quote_clip(name))));
	return m;
}

bool
predict_default_model(const RoutingDoc *doc, double *p)
{
	Model	   *m = model_lookup(DEFAULT_MODEL);

	if (m == NULL)
		return false;
	*p = logistic_of(model_log_odds(m, doc));
	return true;
}

/* What the intercept row says: the model's kind and how it was fitted. */
static char *
intercept_detail(const Model *m)
{
	if (m->legacy)
		return psprintf("naive Bayes prior log(%d positives / %d negatives), uncalibrated (trained by leadflow 1.1)",
						m->positives, m->negatives);
	if (strcmp(m->kind, "logistic") == 0)
		return psprintf("logistic regression, L2 %g, on %d positives and %d negatives",
						m->l2, m->positives, m->negatives);
	return psprintf("naive Bayes on %d positives and %d negatives, calibrated: each feature's log-likelihood ratio times its scale",
					m->positives, m->negatives);
}

void
predict_explain(const RoutingDoc *doc, int64 lead_id, const double *stored,
				ExplainRowFn emit, void *arg)
{
	Model	   *m = model_lookup(DEFAULT_MODEL);
	double		log_odds;
	double		p;
	char	   *versus;

	if (m == NULL)
		return;
	log_odds = m->intercept;
	emit(arg, "prediction", "intercept", intercept_detail(m), m->intercept);
	for (int i = 0; i < m->nfeatures; i++)
	{
		FeatureValue v;
		char	   *label;
		double		w;

		feature_value(doc, m->features[i].name, m->features[i].name_len, &v);
		w = feature_weight(&m->features[i], &v, &label);
		if (!m->legacy && strcmp(m->kind, "naive_bayes") == 0)
			label = psprintf("%s, scale %.4f", label, m->features[i].scale);
		log_odds += w;
		emit(arg, "prediction", m->features[i].name, label, w);
	}
	p = logistic_of(log_odds);
	if (stored != NULL && *stored == p)
		versus = "lead.predicted holds it";
	else if (stored != NULL)
		versus = psprintf("lead.predicted is %.4f: leadflow.rescore(" INT64_FORMAT ") stores this one",
						  *stored, lead_id);
	else
		versus = psprintf("lead.predicted is NULL: leadflow.rescore(" INT64_FORMAT ") stores this one",
						  lead_id);
	emit(arg, "prediction", "total",
		 psprintf("log-odds; probability %.4f by model \"%s\" (%s, trained at %s); %s",
				  p, m->name, m->kind, timestamptz_to_str(m->trained_at), versus),
		 log_odds);
}

PG_FUNCTION_INFO_V1(leadflow_predict);

/*
 * leadflow.predict(doc jsonb, model text DEFAULT 'default') → float8.  The
 * hot path: a cached model, no SQL, no GUC work.  A NULL document has no
 * prediction (NULL); a NULL model name is a mistake.
 */
Datum
leadflow_predict(PG_FUNCTION_ARGS)
{
	Jsonb	   *doc;
	char	   *name;
	RoutingDoc	rdoc = {0};
	Model	   *m;

	/* as train says it */
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the model needs a name"),
				 errhint("Leave the argument out for the model named 'default'.")));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	doc = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_OBJECT(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a routing document must be a JSON object")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	rdoc.attrs = &doc->root;
	m = model_or_error(name);
	PG_RETURN_FLOAT8(logistic_of(model_log_odds(m, &rdoc)));
}
