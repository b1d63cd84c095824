/*
 * train.c
 *	  leadflow.train: a predictive model learnt in the database from the
 *	  leads' real outcomes, checked on leads it did not learn from, and
 *	  stored as a new version in leadflow.model; and
 *	  leadflow.refresh_predictions, which keeps lead.predicted on the
 *	  default model's predictions (train calls it for a new default).
 *
 * Outcomes: qualified or converted is positive, rejected negative; other
 * stages are no outcome yet.  A duplicate closed as such ("duplicate of
 * lead N") or a lead merged into another ("merged into lead N") is not an
 * outcome either: it repeats a person another lead already stands for.
 *
 * Training and held-out leads.  Given a training filter (training_leads,
 * an id set the caller computed with any predicate, as the caller, and/or
 * created_before), the leads it admits train and every other lead with a
 * real outcome is held out.  Without one, a share of the leads (holdout,
 * default 0.2) is held out by a hash of the lead id: deterministic, and
 * mostly the same leads from one training to the next.  train reports
 * AUC and log loss on both, and the calibration error on the held-out
 * leads, computed by the stored model itself (the params are read back as
 * predict reads them), so the figures are predict's.
 *
 * Slots.  A feature whose present training values are at least 90%
 * numbers is numeric: TRAIN_BINS quantile bins (duplicate cut points
 * merged), plus "other" for its few non-numbers; otherwise each distinct
 * value is a category, plus "unseen".  Both have a "missing" slot.  Every
 * model kind gives each slot one weight in log-odds (predict.c):
 *  - logistic: L2-regularised logistic regression over the one-hot slots
 *    (logistic.c), calibrated by itself;
 *  - naive_bayes: Laplace-smoothed log-likelihood ratios, calibrated by
 *    Platt scaling with one scale per feature, fitted on out-of-fold
 *    ratios (each lead's from the counts of the other folds); each
 *    feature's scale is folded into its slots' weights.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include <math.h>

#include "guc.h"
#include "lead_row.h"
#include "logistic.h"
#include "matching.h"
#include "predict.h"
#include "spi_plans.h"
#include "util.h"

/* Quantile bins of a numeric feature (fewer when values repeat). */
#define TRAIN_BINS 10
/* Share of present values that must be numbers for a numeric feature. */
#define NUMERIC_SHARE 0.9
/* Leads read per cursor fetch. */
#define TRAIN_FETCH 1000
/* The most features a model may have (each is a column of every training row). */
#define TRAIN_MAX_FEATURES 256
/* Held out without a training filter. */
#define DEFAULT_HOLDOUT 0.2
#define DEFAULT_L2 1.0
/* Folds of the out-of-fold ratios naive Bayes is calibrated on. */
#define CALIBRATION_FOLDS 5
/* Equal-width probability bins of the calibration error. */
#define CALIBRATION_BINS 10
/*
 * An id-like feature: at least ID_LIKE_MIN_LEADS training leads have it,
 * and for at least ID_LIKE_SHARE of them fewer than ID_LIKE_RARE training
 * leads share the value.
 */
#define ID_LIKE_RARE 5
#define ID_LIKE_SHARE 0.5
#define ID_LIKE_MIN_LEADS 20
/* Training AUC this far above the held-out one is worth a warning. */
#define OVERFIT_AUC_GAP 0.05

#define FEATURES_HINT "Name keys of the routing document: attrs keys, source, campaign, company, country, domain."

/* ----------------------------------------------------------------------
 * The training set
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
	int			offset;			/* of its first slot among all weights */
} TrainFeature;

typedef struct TrainingSet
{
	MemoryContext keep;			/* outlives the per-row context */
	int			nfeatures;
	TrainFeature *features;
	int64		nrows;
	int64		rows_size;
	bool	   *positive;		/* per row */
	uint8	   *fold;			/* per row, for naive Bayes calibration */
	Observation *obs;			/* nrows x nfeatures */
	int64		positives;
	int64		negatives;
	int64		held_out;		/* real outcomes left to the hold-out */
	/* after count_slots */
	int			nweights;
	int32	   *slots;			/* nrows x nfeatures, global slot index */
	int64	   *slot_pos;		/* per slot */
	int64	   *slot_neg;
} TrainingSet;

/* Which leads train; the others with a real outcome are held out. */
typedef struct TrainingFilter
{
	bool		by_filter;		/* training_leads or created_before given */
	int64	   *ids;			/* sorted, distinct; NULL = any */
	int			nids;
	bool		has_created_before;
	TimestampTz created_before;
	double		holdout;		/* without a filter: share held out by hash */
} TrainingFilter;

/* A lead id's hash: a fixed function of the value, on every platform. */
static uint32
lead_hash(int64 id)
{
	return murmurhash32((uint32) id ^ (uint32) ((uint64) id >> 32));
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

static bool
is_training_lead(const TrainingFilter *f, int64 id, TimestampTz created_at)
{
	if (!f->by_filter)
		return (lead_hash(id) % 10000) >= (uint32) rint(f->holdout * 10000);
	if (f->has_created_before && !(created_at < f->created_before))
		return false;
	return f->ids == NULL ||
		bsearch(&id, f->ids, f->nids, sizeof(int64), cmp_int64) != NULL;
}

/* Code of a text value, interning it in the training context. */
static int32
intern(TrainingSet *ts, TrainFeature *f, const char *text, int len)
{
	CategoryKey key = {text, len};
	bool		found;
	CategoryEntry *e = hash_search(f->codes, &key, HASH_ENTER, &found);

	if (!found)
	{
		/* the probe key points at per-row memory: keep a copy */
		char	   *copy = MemoryContextAlloc(ts->keep, len + 1);

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
observe_row(TrainingSet *ts, const RoutingDoc *doc, int64 id, bool positive)
{
	Observation *row;

	if (ts->nrows == ts->rows_size)
	{
		ts->rows_size *= 2;
		ts->positive = repalloc_huge(ts->positive, sizeof(bool) * ts->rows_size);
		ts->fold = repalloc_huge(ts->fold, sizeof(uint8) * ts->rows_size);
		ts->obs = repalloc_huge(ts->obs,
								sizeof(Observation) * ts->rows_size * ts->nfeatures);
	}
	ts->positive[ts->nrows] = positive;
	ts->fold[ts->nrows] = murmurhash32(lead_hash(id)) % CALIBRATION_FOLDS;
	row = &ts->obs[ts->nrows * ts->nfeatures];
	for (int i = 0; i < ts->nfeatures; i++)
	{
		TrainFeature *f = &ts->features[i];
		FeatureValue v;

		feature_value(doc, f->name, f->name_len, &v);
		row[i].code = -1;
		if (!v.present)
			continue;
		feature_value_text(&v);
		f->present++;
		row[i].code = intern(ts, f, v.text, v.text_len);
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

/* ----------------------------------------------------------------------
 * Reading the leads with a real outcome
 * ----------------------------------------------------------------------
 */

typedef void (*LeadRowFn) (void *arg, const RoutingDoc *doc, int64 id,
						   bool training, bool positive);

static SPIPlanPtr outcome_leads_plan = NULL;
static SPIPlanPtr save_model_plan = NULL;
static SPIPlanPtr refresh_call_plan = NULL;
static SPIPlanPtr refresh_plan = NULL;

/*
 * Every lead with a real outcome, one call each (in a per-row context the
 * callback must not keep pointers into).  read_only: both passes of one
 * training see the same snapshot, so they see the same leads.
 */
static void
scan_outcome_leads(const TrainingFilter *filter, LeadRowFn fn, void *arg)
{
	MemoryContext keep = CurrentMemoryContext;
	MemoryContext per_row = AllocSetContextCreate(keep, "leadflow train row",
												  ALLOCSET_DEFAULT_SIZES);
	Portal		portal;

	portal = SPI_cursor_open(NULL,
							 leadflow_plan(&outcome_leads_plan,
										   "SELECT id, created_at, attrs, source, campaign, company,"
										   " country, email,"
										   " stage OPERATOR(pg_catalog.<>) 'rejected'::leadflow.stage"
										   " FROM leadflow.lead"
										   " WHERE stage OPERATOR(pg_catalog.=) ANY"
										   "       ('{qualified,converted,rejected}'::leadflow.stage[])"
										   "   AND NOT (stage OPERATOR(pg_catalog.=) 'rejected'::leadflow.stage"
										   "            AND coalesce(reject_reason OPERATOR(pg_catalog.~~) 'duplicate of lead %'"
										   "                 OR reject_reason OPERATOR(pg_catalog.~~) 'merged into lead %',"
										   "                 false))",
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
			Datum		col[9];
			bool		isnull[9];
			RoutingDoc	doc;
			int64		id;

			CHECK_FOR_INTERRUPTS();
			MemoryContextSwitchTo(per_row);
			for (int c = 0; c < 9; c++)
				col[c] = SPI_getbinval(t, d, c + 1, &isnull[c]);
			id = DatumGetInt64(col[0]);
			routing_doc_build(&doc,
							  isnull[2] ? NULL : DatumGetJsonbP(col[2]),
							  isnull[3] ? NULL : DatumGetTextPP(col[3]),
							  isnull[4] ? NULL : DatumGetTextPP(col[4]),
							  isnull[5] ? NULL : DatumGetTextPP(col[5]),
							  isnull[6] ? NULL : DatumGetTextPP(col[6]),
							  isnull[7] ? NULL : DatumGetTextPP(col[7]));
			fn(arg, &doc, id, is_training_lead(filter, id, DatumGetTimestampTz(col[1])),
			   DatumGetBool(col[8]));
			MemoryContextSwitchTo(keep);
			MemoryContextReset(per_row);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(per_row);
}

/* First pass: the training leads' features; the held-out ones counted. */
static void
observe_training_lead(void *arg, const RoutingDoc *doc, int64 id, bool training,
					  bool positive)
{
	TrainingSet *ts = arg;

	if (training)
		observe_row(ts, doc, id, positive);
	else
		ts->held_out++;
}

/* ----------------------------------------------------------------------
 * Slots
 * ----------------------------------------------------------------------
 */

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
	if (o->code < 0)
		return missing_slot(f);
	if (!f->numeric)
		return o->code;
	if (!o->is_number)
		return missing_slot(f) + 1;
	return numeric_bin(f->cuts, f->ncuts, o->number);
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
	double	   *values = palloc_extended(sizeof(double) * Max(f->numbers, 1), MCXT_ALLOC_HUGE);
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

/* Decide each feature's kind and slots; every row's slots and counts. */
static void
count_slots(TrainingSet *ts)
{
	int			F = ts->nfeatures;

	ts->nweights = 0;
	for (int fi = 0; fi < F; fi++)
	{
		TrainFeature *f = &ts->features[fi];

		f->numeric = f->numbers >= NUMERIC_SHARE * f->present;
		if (f->numeric)
			learn_cuts(ts, fi);
		f->nslots = missing_slot(f) + 2;
		f->offset = ts->nweights;
		ts->nweights += f->nslots;
	}
	ts->slots = palloc_extended(sizeof(int32) * Max(ts->nrows * F, 1), MCXT_ALLOC_HUGE);
	ts->slot_pos = palloc0(sizeof(int64) * ts->nweights);
	ts->slot_neg = palloc0(sizeof(int64) * ts->nweights);
	for (int64 r = 0; r < ts->nrows; r++)
		for (int fi = 0; fi < F; fi++)
		{
			TrainFeature *f = &ts->features[fi];
			int32		slot = f->offset + observation_slot(f, &ts->obs[r * F + fi]);

			ts->slots[r * F + fi] = slot;
			if (ts->positive[r])
				ts->slot_pos[slot]++;
			else
				ts->slot_neg[slot]++;
		}
	pfree(ts->obs);
	ts->obs = NULL;
}

/* ----------------------------------------------------------------------
 * Fitting
 * ----------------------------------------------------------------------
 */

typedef struct Fitted
{
	const char *kind;
	double		intercept;
	double	   *weights;		/* nweights */
	int			iterations;		/* of the L-BFGS fit (naive Bayes: its calibration) */
	bool		converged;
	/* logistic */
	double		l2;
	/* naive Bayes */
	double		prior;
	double	   *scales;			/* per feature */
} Fitted;

/* llr of every slot from counts (all of them, or all but one fold's) */
static void
naive_bayes_weights(const TrainingSet *ts, const int64 *pos, const int64 *neg,
					double positives, double negatives, double *llr)
{
	for (int fi = 0; fi < ts->nfeatures; fi++)
	{
		const TrainFeature *f = &ts->features[fi];

		for (int s = f->offset; s < f->offset + f->nslots; s++)
			llr[s] = naive_bayes_llr(pos[s], neg[s], positives, negatives, f->nslots);
	}
}

/*
 * The training rows with the same slots (and, by_fold, the same fold)
 * merged into one that counts their positives and negatives, in the order
 * of their keys: fits then cost by distinct rows, not by leads, and do
 * not depend on the order the leads were read in.
 */
typedef struct MergedRows
{
	int64		n;
	int32	   *slots;			/* n x nfeatures */
	uint8	   *fold;			/* by_fold */
	double	   *positives;
	double	   *negatives;
} MergedRows;

typedef struct MergedRow
{
	const int32 *key;			/* the slots, then the fold when by fold */
	double		positives;
	double		negatives;
} MergedRow;

static int
cmp_merged(const void *a, const void *b, void *keysize)
{
	return memcmp(((const MergedRow *) a)->key, ((const MergedRow *) b)->key,
				  *(const Size *) keysize);
}

static void
merge_rows(const TrainingSet *ts, bool by_fold, MergedRows *out)
{
	int			F = ts->nfeatures;
	int			keylen = F + (by_fold ? 1 : 0);
	Size		keysize = sizeof(int32) * keylen;
	int32	   *key = palloc(keysize);
	HASHCTL		ctl;
	HTAB	   *merged;
	HASH_SEQ_STATUS seq;
	char	   *entry;
	MergedRow  *rows;
	int64		n = 0;

	/* each entry: the key, then the row's positives and negatives */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = MAXALIGN(keysize) + 2 * sizeof(double);
	ctl.hcxt = CurrentMemoryContext;
	merged = hash_create("leadflow train rows", Max(ts->nrows, 16), &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (int64 r = 0; r < ts->nrows; r++)
	{
		bool		found;
		double	   *counts;

		memcpy(key, &ts->slots[r * F], sizeof(int32) * F);
		if (by_fold)
			key[F] = ts->fold[r];
		entry = hash_search(merged, key, HASH_ENTER, &found);
		counts = (double *) (entry + MAXALIGN(keysize));
		if (!found)
			counts[0] = counts[1] = 0;
		counts[ts->positive[r] ? 0 : 1] += 1;
	}
	rows = palloc_extended(sizeof(MergedRow) * Max(hash_get_num_entries(merged), 1),
						   MCXT_ALLOC_HUGE);
	hash_seq_init(&seq, merged);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		double	   *counts = (double *) (entry + MAXALIGN(keysize));

		rows[n].key = (const int32 *) entry;
		rows[n].positives = counts[0];
		rows[n++].negatives = counts[1];
	}
	qsort_arg(rows, n, sizeof(MergedRow), cmp_merged, &keysize);
	out->n = n;
	out->slots = palloc_extended(sizeof(int32) * Max(n * F, 1), MCXT_ALLOC_HUGE);
	out->fold = palloc_extended(sizeof(uint8) * Max(n, 1), MCXT_ALLOC_HUGE);
	out->positives = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
	out->negatives = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
	for (int64 r = 0; r < n; r++)
	{
		memcpy(&out->slots[r * F], rows[r].key, sizeof(int32) * F);
		out->fold[r] = by_fold ? rows[r].key[F] : 0;
		out->positives[r] = rows[r].positives;
		out->negatives[r] = rows[r].negatives;
	}
	hash_destroy(merged);
	pfree(rows);
	pfree(key);
}

/*
 * Each merged row's log-likelihood ratio of each feature (n x nfeatures),
 * out of fold: from the counts of the other folds, as a new lead would
 * get it.  When a fold's complement lacks an outcome (a tiny training
 * set) there is no honest out-of-fold ratio: then in-sample.
 */
static void
feature_ratios(const TrainingSet *ts, const MergedRows *m, const double *llr, double *ratios)
{
	int			W = ts->nweights;
	int			F = ts->nfeatures;
	int64	   *pos = palloc0(sizeof(int64) * W * CALIBRATION_FOLDS);
	int64	   *neg = palloc0(sizeof(int64) * W * CALIBRATION_FOLDS);
	int64		fold_pos[CALIBRATION_FOLDS] = {0};
	int64		fold_neg[CALIBRATION_FOLDS] = {0};
	int64	   *rest_pos = palloc(sizeof(int64) * W);
	int64	   *rest_neg = palloc(sizeof(int64) * W);
	double	   *fold_llr = palloc(sizeof(double) * W);
	bool		out_of_fold = true;

	for (int64 r = 0; r < m->n; r++)
	{
		int			k = m->fold[r];

		for (int fi = 0; fi < F; fi++)
		{
			int32		s = m->slots[r * F + fi];

			pos[k * W + s] += (int64) m->positives[r];
			neg[k * W + s] += (int64) m->negatives[r];
		}
		fold_pos[k] += (int64) m->positives[r];
		fold_neg[k] += (int64) m->negatives[r];
	}
	for (int k = 0; k < CALIBRATION_FOLDS; k++)
		if (ts->positives - fold_pos[k] == 0 || ts->negatives - fold_neg[k] == 0)
			out_of_fold = false;
	for (int k = 0; k < CALIBRATION_FOLDS; k++)
	{
		const double *use = llr;

		if (out_of_fold)
		{
			for (int s = 0; s < W; s++)
			{
				rest_pos[s] = ts->slot_pos[s] - pos[k * W + s];
				rest_neg[s] = ts->slot_neg[s] - neg[k * W + s];
			}
			naive_bayes_weights(ts, rest_pos, rest_neg, ts->positives - fold_pos[k],
								ts->negatives - fold_neg[k], fold_llr);
			use = fold_llr;
		}
		for (int64 r = 0; r < m->n; r++)
			if (m->fold[r] == k)
				for (int fi = 0; fi < F; fi++)
					ratios[r * F + fi] = use[m->slots[r * F + fi]];
	}
	pfree(pos);
	pfree(neg);
	pfree(rest_pos);
	pfree(rest_neg);
	pfree(fold_llr);
}

/*
 * Naive Bayes, calibrated: the outcome regressed (logistic, l2 1) on each
 * feature's out-of-fold log-likelihood ratio -- Platt scaling with a
 * scale per feature, so evidence that several correlated features repeat
 * is not counted several times over (one scale for all, tried first, left
 * a calibration error of 0.040 on the X Education leads: the counted-twice
 * evidence is not spread evenly).  Feature f's slot weights are its scale
 * times its ratios; the shift is the intercept.
 */
static void
fit_naive_bayes(const TrainingSet *ts, Fitted *fit)
{
	int			F = ts->nfeatures;
	double	   *llr = palloc(sizeof(double) * ts->nweights);
	MergedRows	m;
	double	   *ratios;
	int32	   *columns;
	SlotDesign	design;
	LogisticFit calibration;

	fit->prior = log((double) ts->positives / ts->negatives);
	naive_bayes_weights(ts, ts->slot_pos, ts->slot_neg, ts->positives, ts->negatives, llr);
	merge_rows(ts, true, &m);
	ratios = palloc_extended(sizeof(double) * Max(m.n * F, 1), MCXT_ALLOC_HUGE);
	columns = palloc_extended(sizeof(int32) * Max(m.n * F, 1), MCXT_ALLOC_HUGE);
	feature_ratios(ts, &m, llr, ratios);
	/* one input per feature: weight f is feature f's scale */
	for (int64 r = 0; r < m.n; r++)
		for (int fi = 0; fi < F; fi++)
			columns[r * F + fi] = fi;
	design.nfeatures = F;
	design.nweights = F;
	design.nrows = m.n;
	design.slots = columns;
	design.values = ratios;
	design.positives = m.positives;
	design.negatives = m.negatives;
	logistic_fit(&design, DEFAULT_L2, &calibration);
	fit->intercept = calibration.intercept;
	fit->scales = calibration.weights;
	fit->iterations = calibration.iterations;
	fit->converged = calibration.converged;
	fit->weights = llr;
	for (int fi = 0; fi < F; fi++)
	{
		const TrainFeature *f = &ts->features[fi];

		for (int s = f->offset; s < f->offset + f->nslots; s++)
			fit->weights[s] *= fit->scales[fi];
	}
	pfree(ratios);
	pfree(columns);
}

static void
fit_logistic(const TrainingSet *ts, double l2, Fitted *fit)
{
	MergedRows	m;
	SlotDesign	design;
	LogisticFit lf;

	merge_rows(ts, false, &m);
	design.nfeatures = ts->nfeatures;
	design.nweights = ts->nweights;
	design.nrows = m.n;
	design.slots = m.slots;
	design.values = NULL;
	design.positives = m.positives;
	design.negatives = m.negatives;
	logistic_fit(&design, l2, &lf);
	fit->l2 = l2;
	fit->intercept = lf.intercept;
	fit->weights = lf.weights;
	fit->iterations = lf.iterations;
	fit->converged = lf.converged;
	fit->prior = log((double) ts->positives / ts->negatives);
}

/* ----------------------------------------------------------------------
 * Params
 * ----------------------------------------------------------------------
 */

static void
append_number(StringInfo s, double v)
{
	if (!isfinite(v))
		elog(ERROR, "leadflow: training produced a non-finite number");
	appendStringInfoString(s, float8out_internal(v));
}

/* [weight, positives, negatives] of a slot */
static void
append_slot(StringInfo s, const TrainingSet *ts, const Fitted *fit, int slot)
{
	appendStringInfoChar(s, '[');
	append_number(s, fit->weights[slot]);
	appendStringInfo(s, ", " INT64_FORMAT ", " INT64_FORMAT "]",
					 ts->slot_pos[slot], ts->slot_neg[slot]);
}

/* The model as params (format 2, see predict.c). */
static Jsonb *
params_jsonb(const TrainingSet *ts, const Fitted *fit)
{
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "{\"format\": %d, \"kind\": \"%s\", \"intercept\": ",
					 MODEL_PARAMS_FORMAT, fit->kind);
	append_number(&s, fit->intercept);
	appendStringInfo(&s, ", \"positives\": " INT64_FORMAT ", \"negatives\": " INT64_FORMAT
					 ", \"iterations\": %d, \"converged\": %s",
					 ts->positives, ts->negatives, fit->iterations,
					 fit->converged ? "true" : "false");
	if (strcmp(fit->kind, "logistic") == 0)
	{
		appendStringInfoString(&s, ", \"l2\": ");
		append_number(&s, fit->l2);
	}
	else
	{
		appendStringInfoString(&s, ", \"alpha\": 1, \"prior\": ");
		append_number(&s, fit->prior);
	}
	appendStringInfoString(&s, ", \"features\": [");
	for (int fi = 0; fi < ts->nfeatures; fi++)
	{
		const TrainFeature *f = &ts->features[fi];
		int			missing = f->offset + missing_slot(f);

		appendStringInfoString(&s, fi ? ", {\"name\": " : "{\"name\": ");
		escape_json(&s, f->name);
		if (fit->scales != NULL)
		{
			appendStringInfoString(&s, ", \"scale\": ");
			append_number(&s, fit->scales[fi]);
		}
		if (f->numeric)
		{
			appendStringInfoString(&s, ", \"kind\": \"numeric\", \"cuts\": [");
			for (int c = 0; c < f->ncuts; c++)
			{
				if (c)
					appendStringInfoString(&s, ", ");
				append_number(&s, f->cuts[c]);
			}
			appendStringInfoString(&s, "], \"bins\": [");
			for (int b = 0; b <= f->ncuts; b++)
			{
				if (b)
					appendStringInfoString(&s, ", ");
				append_slot(&s, ts, fit, f->offset + b);
			}
			appendStringInfoString(&s, "], \"other\": ");
			append_slot(&s, ts, fit, missing + 1);
		}
		else
		{
			appendStringInfoString(&s, ", \"kind\": \"categorical\", \"values\": {");
			for (int c = 0; c < f->ncodes; c++)
			{
				if (c)
					appendStringInfoString(&s, ", ");
				escape_json(&s, f->texts[c].text);
				appendStringInfoString(&s, ": ");
				append_slot(&s, ts, fit, f->offset + c);
			}
			appendStringInfoChar(&s, '}');
		}
		appendStringInfoString(&s, ", \"missing\": ");
		append_slot(&s, ts, fit, missing);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoString(&s, "]}");
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data)));
}

/* ----------------------------------------------------------------------
 * Evaluation: the stored model on the training and the held-out leads
 * ----------------------------------------------------------------------
 */

typedef struct ScoredRow
{
	double		log_odds;
	bool		positive;
} ScoredRow;

typedef struct ScoreSet
{
	ScoredRow  *rows;
	int64		n;
	int64		size;
	int64		positives;
	int64		negatives;
} ScoreSet;

typedef struct Evaluation
{
	const Model *model;
	ScoreSet	training;
	ScoreSet	held_out;
} Evaluation;

static void
score_set_init(ScoreSet *s)
{
	memset(s, 0, sizeof(*s));
	s->size = 1024;
	s->rows = palloc(sizeof(ScoredRow) * s->size);
}

static void
score_set_add(ScoreSet *s, double log_odds, bool positive)
{
	if (s->n == s->size)
	{
		s->size *= 2;
		s->rows = repalloc_huge(s->rows, sizeof(ScoredRow) * s->size);
	}
	s->rows[s->n].log_odds = log_odds;
	s->rows[s->n++].positive = positive;
	if (positive)
		s->positives++;
	else
		s->negatives++;
}

/* Second pass: every lead with an outcome, scored as predict scores it. */
static void
evaluate_lead(void *arg, const RoutingDoc *doc, int64 id, bool training, bool positive)
{
	Evaluation *e = arg;

	score_set_add(training ? &e->training : &e->held_out,
				  model_log_odds(e->model, doc), positive);
}

static int
cmp_scored(const void *a, const void *b)
{
	return cmp_double(&((const ScoredRow *) a)->log_odds, &((const ScoredRow *) b)->log_odds);
}

/*
 * Area under the ROC curve, exactly: the Mann-Whitney statistic, with tied
 * scores given their average rank (a tie counts one half).  NaN without
 * both outcomes.
 */
static double
exact_auc(ScoreSet *s)
{
	double		rank_sum = 0;
	int64		i = 0;

	if (s->positives == 0 || s->negatives == 0)
		return NAN;
	qsort(s->rows, s->n, sizeof(ScoredRow), cmp_scored);
	while (i < s->n)
	{
		int64		j = i;
		int64		tied_positives = 0;

		while (j < s->n && s->rows[j].log_odds == s->rows[i].log_odds)
			tied_positives += s->rows[j++].positive;
		/* ranks i+1 .. j share their mean */
		rank_sum += tied_positives * ((double) (i + 1 + j) / 2.0);
		i = j;
	}
	return (rank_sum - (double) s->positives * (s->positives + 1) / 2.0) /
		((double) s->positives * s->negatives);
}

/* Mean log loss (natural log); NaN for no leads. */
static double
mean_log_loss(const ScoreSet *s)
{
	double		sum = 0;

	if (s->n == 0)
		return NAN;
	for (int64 i = 0; i < s->n; i++)
		sum += logistic_log_loss(s->rows[i].log_odds, s->rows[i].positive);
	return sum / s->n;
}

/*
 * Expected calibration error over CALIBRATION_BINS equal-width bins of the
 * probability: sum over bins of (leads in it / leads) x |mean probability
 * - share converted|.  NaN for no leads.
 */
static double
calibration_error(const ScoreSet *s)
{
	double		predicted[CALIBRATION_BINS] = {0};
	double		converted[CALIBRATION_BINS] = {0};
	double		error = 0;

	if (s->n == 0)
		return NAN;
	for (int64 i = 0; i < s->n; i++)
	{
		double		p = logistic_of(s->rows[i].log_odds);
		int			b = Min((int) (p * CALIBRATION_BINS), CALIBRATION_BINS - 1);

		predicted[b] += p;
		converted[b] += s->rows[i].positive;
	}
	for (int b = 0; b < CALIBRATION_BINS; b++)
		error += fabs(predicted[b] - converted[b]);
	return error / s->n;
}

/* ----------------------------------------------------------------------
 * Arguments and checks
 * ----------------------------------------------------------------------
 */

typedef struct TrainArgs
{
	char	   *name;
	ArrayType  *features;
	const char *kind;
	double		l2;
	TrainingFilter filter;
} TrainArgs;

static void bad_argument(const char *message, const char *hint) pg_attribute_noreturn();

static void
bad_argument(const char *message, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 hint ? errhint("%s", hint) : 0));
}

/* training_leads: sorted and distinct, no NULL */
static void
training_ids(ArrayType *arr, TrainingFilter *f)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			kept = 0;

	if (ARR_NDIM(arr) > 1)
		bad_argument("training_leads must be a one-dimensional array of lead ids", NULL);
	deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	f->ids = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			bad_argument("training_leads must not contain NULL",
						 "Pass the ids of the leads to train on, e.g. (SELECT array_agg(id) FROM leadflow.lead WHERE ...).");
		f->ids[i] = DatumGetInt64(elems[i]);
	}
	qsort(f->ids, n, sizeof(int64), cmp_int64);
	for (int i = 0; i < n; i++)
		if (kept == 0 || f->ids[i] != f->ids[kept - 1])
			f->ids[kept++] = f->ids[i];
	f->nids = kept;
}

static void
train_args(FunctionCallInfo fcinfo, TrainArgs *a)
{
	memset(a, 0, sizeof(*a));
	if (PG_ARGISNULL(0))
		bad_argument("features must not be NULL", FEATURES_HINT);
	if (PG_ARGISNULL(1) || VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) == 0)
		bad_argument("the model needs a name", NULL);
	a->name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strlen(a->name) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name \"%s\" is too long", leadflow_quote_clip(a->name)),
				 errdetail("A model name has at most %d bytes.", NAMEDATALEN - 1)));
	a->features = PG_GETARG_ARRAYTYPE_P(0);

	a->kind = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (a->kind == NULL || (strcmp(a->kind, "logistic") != 0 &&
							strcmp(a->kind, "naive_bayes") != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown model kind \"%s\"",
						a->kind ? leadflow_quote_clip(a->kind) : "NULL"),
				 errhint("Choose logistic (the default) or naive_bayes.")));

	if (strcmp(a->kind, "naive_bayes") == 0 && !PG_ARGISNULL(6))
		bad_argument("l2 applies to logistic models only",
					 "Naive Bayes is smoothed by Laplace (alpha = 1); leave l2 out.");
	a->l2 = PG_ARGISNULL(6) ? DEFAULT_L2 : PG_GETARG_FLOAT8(6);
	if (!(a->l2 > 0) || isinf(a->l2))
		bad_argument(psprintf("l2 must be a positive number, not %g", a->l2),
					 "l2 is the weight of the penalty on squared weights; 1 is the default, larger is smoother.");

	if (!PG_ARGISNULL(3))
		training_ids(PG_GETARG_ARRAYTYPE_P(3), &a->filter);
	if (!PG_ARGISNULL(4))
	{
		a->filter.has_created_before = true;
		a->filter.created_before = PG_GETARG_TIMESTAMPTZ(4);
	}
	a->filter.by_filter = !PG_ARGISNULL(3) || !PG_ARGISNULL(4);
	if (a->filter.by_filter && !PG_ARGISNULL(5))
		bad_argument("give either a training filter or a holdout share, not both",
					 "With training_leads or created_before, every other lead with an outcome is held out.");
	a->filter.holdout = PG_ARGISNULL(5) ? DEFAULT_HOLDOUT : PG_GETARG_FLOAT8(5);
	if (!(a->filter.holdout >= 0 && a->filter.holdout < 1))
		bad_argument(psprintf("holdout must be at least 0 and less than 1, not %g",
							  a->filter.holdout),
					 "holdout is the share of leads held out to check the model; 0.2 is the default, 0 holds none out.");
}

/* The features argument: a non-empty array of distinct, non-blank names. */
static void
setup_features(TrainingSet *ts, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		bad_argument("features must be a one-dimensional array of document keys", NULL);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		bad_argument("features must not be empty", FEATURES_HINT);
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
					 errhint(FEATURES_HINT)));
		f->name = TextDatumGetCString(elems[i]);
		f->name_len = strlen(f->name);
		for (int j = 0; j < i; j++)
			if (strcmp(ts->features[j].name, f->name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("feature \"%s\" is listed twice", leadflow_quote_clip(f->name))));
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
check_training_set(const TrainingSet *ts, const TrainingFilter *filter)
{
	StringInfoData absent;
	int			nabsent = 0;

	if (ts->positives == 0 || ts->negatives == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(ts->nrows == 0 ? "there are no closed leads to train on"
						: "the closed leads have only one outcome"),
				 errdetail("Training leads: " INT64_FORMAT " positive (qualified or converted), "
						   INT64_FORMAT " negative (rejected); " INT64_FORMAT
						   " more held out.  Duplicates and merged leads do not count.",
						   ts->positives, ts->negatives, ts->held_out),
				 filter->by_filter
				 ? errhint("The training filter (training_leads, created_before) admits too few leads.")
				 : errhint("Training needs leads of both outcomes: close leads as qualified or converted, and as rejected (imported history counts).")));
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
				 errmsg_plural("feature %s does not occur in any training lead",
							   "features %s do not occur in any training lead",
							   nabsent, leadflow_quote_clip(absent.data)),
				 errhint(FEATURES_HINT)));
}

/* A categorical feature most of whose leads have a value few others share. */
static void
warn_id_like(const TrainingSet *ts)
{
	for (int fi = 0; fi < ts->nfeatures; fi++)
	{
		const TrainFeature *f = &ts->features[fi];
		int64		rare = 0;

		if (f->numeric || f->present < ID_LIKE_MIN_LEADS)
			continue;
		for (int c = 0; c < f->ncodes; c++)
		{
			int64		n = ts->slot_pos[f->offset + c] + ts->slot_neg[f->offset + c];

			if (n < ID_LIKE_RARE)
				rare += n;
		}
		if (rare >= ID_LIKE_SHARE * f->present)
			ereport(WARNING,
					(errcode(ERRCODE_WARNING),
					 errmsg("feature \"%s\" looks like an identifier", leadflow_quote_clip(f->name)),
					 errdetail(INT64_FORMAT " of the " INT64_FORMAT " training leads that have it share their value with fewer than %d others (%d distinct values).",
							   rare, f->present, ID_LIKE_RARE - 1, f->ncodes),
					 errhint("Leave it out, or use something many leads share (a domain, a size band): a model learns such values by heart, and they tell nothing about new leads.")));
	}
}

/* ----------------------------------------------------------------------
 * Storing
 * ----------------------------------------------------------------------
 */

typedef struct TrainReport
{
	double		auc;
	double		log_loss;
	int64		holdout_positives;
	int64		holdout_negatives;
	double		holdout_auc;
	double		holdout_log_loss;
	double		holdout_calibration_error;
} TrainReport;

/* A figure as a parameter: NaN (undefined) is NULL. */
static void
figure_arg(double v, Datum *value, char *null)
{
	*value = Float8GetDatum(v);
	*null = isnan(v) ? 'n' : ' ';
}

/* Insert (or, trained again at the same moment, replace) the version. */
static void
save_model(const TrainArgs *a, TimestampTz trained_at, Jsonb *params,
		   const TrainingSet *ts, const TrainReport *r)
{
	Oid			argtypes[14] = {TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID, JSONBOID,
		INT4OID, INT4OID, FLOAT8OID, TEXTOID, FLOAT8OID, INT4OID, INT4OID,
	FLOAT8OID, FLOAT8OID, FLOAT8OID};
	Datum		args[14];
	char		nulls[15] = "              ";

	args[0] = CStringGetTextDatum(a->name);
	args[1] = TimestampTzGetDatum(trained_at);
	args[2] = PointerGetDatum(a->features);
	args[3] = JsonbPGetDatum(params);
	args[4] = Int32GetDatum((int32) ts->positives);
	args[5] = Int32GetDatum((int32) ts->negatives);
	figure_arg(r->auc, &args[6], &nulls[6]);
	args[7] = CStringGetTextDatum(a->kind);
	figure_arg(r->log_loss, &args[8], &nulls[8]);
	args[9] = Int32GetDatum((int32) r->holdout_positives);
	args[10] = Int32GetDatum((int32) r->holdout_negatives);
	figure_arg(r->holdout_auc, &args[11], &nulls[11]);
	figure_arg(r->holdout_log_loss, &args[12], &nulls[12]);
	figure_arg(r->holdout_calibration_error, &args[13], &nulls[13]);
	if (SPI_execute_plan(leadflow_plan(&save_model_plan,
									   "INSERT INTO leadflow.model"
									   " (name, trained_at, features, params, positives, negatives, auc,"
									   "  kind, log_loss, holdout_positives, holdout_negatives,"
									   "  holdout_auc, holdout_log_loss, holdout_calibration_error)"
									   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
									   " ON CONFLICT (name, trained_at) DO UPDATE"
									   " SET features = EXCLUDED.features, params = EXCLUDED.params,"
									   " positives = EXCLUDED.positives, negatives = EXCLUDED.negatives,"
									   " auc = EXCLUDED.auc, kind = EXCLUDED.kind,"
									   " log_loss = EXCLUDED.log_loss,"
									   " holdout_positives = EXCLUDED.holdout_positives,"
									   " holdout_negatives = EXCLUDED.holdout_negatives,"
									   " holdout_auc = EXCLUDED.holdout_auc,"
									   " holdout_log_loss = EXCLUDED.holdout_log_loss,"
									   " holdout_calibration_error = EXCLUDED.holdout_calibration_error",
									   14, argtypes),
						 args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "leadflow: could not store model \"%s\"", a->name);
}

/* lead.predicted of every lead, after a new default model: the count changed. */
static int64
refresh_predictions(void)
{
	bool		isnull;

	if (SPI_execute_plan(leadflow_plan(&refresh_call_plan,
									   "SELECT leadflow.refresh_predictions()", 0, NULL),
						 NULL, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "leadflow: could not refresh lead.predicted");
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
									   &isnull));
}

PG_FUNCTION_INFO_V1(leadflow_train);

/*
 * leadflow.train(features text[], model text DEFAULT 'default',
 *                kind text DEFAULT 'logistic', training_leads bigint[] DEFAULT NULL,
 *                created_before timestamptz DEFAULT NULL,
 *                holdout float8 DEFAULT NULL, l2 float8 DEFAULT NULL)
 * → TABLE(model, kind, trained_at, positives, negatives, features,
 *         parameters, auc, log_loss, holdout_positives, holdout_negatives,
 *         holdout_auc, holdout_log_loss, holdout_calibration_error, refreshed)
 */
Datum
leadflow_train(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller;
	MemoryContext work;
	TrainArgs	a;
	TrainingSet ts;
	Fitted		fit;
	Jsonb	   *params;
	Evaluation	eval;
	TrainReport report;
	int64		refreshed = -1;
	TimestampTz trained_at = leadflow_now();
	Datum		values[15];
	bool		nulls[15] = {0};

	InitMaterializedSRF(fcinfo, 0);
	caller = CurrentMemoryContext;
	work = AllocSetContextCreate(caller, "leadflow train", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	train_args(fcinfo, &a);
	memset(&ts, 0, sizeof(ts));
	ts.keep = work;
	setup_features(&ts, a.features);
	ts.rows_size = 1024;
	ts.positive = palloc(sizeof(bool) * ts.rows_size);
	ts.fold = palloc(sizeof(uint8) * ts.rows_size);
	ts.obs = palloc(sizeof(Observation) * ts.rows_size * ts.nfeatures);

	SPI_connect();
	MemoryContextSwitchTo(work);
	scan_outcome_leads(&a.filter, observe_training_lead, &ts);
	check_training_set(&ts, &a.filter);
	count_slots(&ts);
	warn_id_like(&ts);

	memset(&fit, 0, sizeof(fit));
	fit.kind = a.kind;
	if (strcmp(a.kind, "logistic") == 0)
		fit_logistic(&ts, a.l2, &fit);
	else
		fit_naive_bayes(&ts, &fit);
	if (!fit.converged)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("the fit of model \"%s\" stopped after %d iterations before it converged",
						a.name, fit.iterations),
				 errhint("The model is stored as it is.  Fewer features, or a larger l2 for a logistic model, make the problem easier.")));
	params = params_jsonb(&ts, &fit);

	/* what predict will load, on every lead with an outcome */
	memset(&eval, 0, sizeof(eval));
	eval.model = model_from_params(a.name, trained_at, params);
	score_set_init(&eval.training);
	score_set_init(&eval.held_out);
	scan_outcome_leads(&a.filter, evaluate_lead, &eval);
	report.auc = exact_auc(&eval.training);
	report.log_loss = mean_log_loss(&eval.training);
	report.holdout_positives = eval.held_out.positives;
	report.holdout_negatives = eval.held_out.negatives;
	report.holdout_auc = exact_auc(&eval.held_out);
	report.holdout_log_loss = mean_log_loss(&eval.held_out);
	report.holdout_calibration_error = calibration_error(&eval.held_out);
	if (report.auc - report.holdout_auc > OVERFIT_AUC_GAP)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("model \"%s\" ranks its training leads much better than held-out ones",
						a.name),
				 errdetail("AUC %.4f on the training leads, %.4f on the held-out leads.",
						   report.auc, report.holdout_auc),
				 errhint("Leave out features that identify leads rather than describe them, use fewer or coarser ones, or a larger l2.")));

	save_model(&a, trained_at, params, &ts, &report);
	if (strcmp(a.name, DEFAULT_MODEL) == 0)
		refreshed = refresh_predictions();
	SPI_finish();

	MemoryContextSwitchTo(caller);
	values[0] = CStringGetTextDatum(a.name);
	values[1] = CStringGetTextDatum(a.kind);
	values[2] = TimestampTzGetDatum(trained_at);
	values[3] = Int32GetDatum((int32) ts.positives);
	values[4] = Int32GetDatum((int32) ts.negatives);
	values[5] = Int32GetDatum(ts.nfeatures);
	values[6] = Int32GetDatum(ts.nweights + 1);	/* the slots' weights and the intercept */
	values[7] = Float8GetDatum(report.auc);
	values[8] = Float8GetDatum(report.log_loss);
	values[9] = Int32GetDatum((int32) report.holdout_positives);
	values[10] = Int32GetDatum((int32) report.holdout_negatives);
	values[11] = Float8GetDatum(report.holdout_auc);
	nulls[11] = isnan(report.holdout_auc);
	values[12] = Float8GetDatum(report.holdout_log_loss);
	nulls[12] = isnan(report.holdout_log_loss);
	values[13] = Float8GetDatum(report.holdout_calibration_error);
	nulls[13] = isnan(report.holdout_calibration_error);
	values[14] = Int64GetDatum(refreshed);
	nulls[14] = refreshed < 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	MemoryContextDelete(work);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(leadflow_refresh_predictions);

/*
 * leadflow.refresh_predictions() → bigint: every lead's predicted set to
 * what the newest 'default' model gives its routing document, in one
 * UPDATE; returns how many changed (0 when there is no default model:
 * predictions are then left as they are).  Only predicted changes, so the
 * lead's own trigger lets the rows through untouched and uncounted
 * (leadflow_routing_writes), as it does routing's writes.  The
 * prediction is computed twice for a row that changes (WHERE and SET):
 * cheaper than joining the table to itself.
 */
Datum
leadflow_refresh_predictions(PG_FUNCTION_ARGS)
{
	uint64		changed = 0;

	SPI_connect();
	leadflow_routing_writes = true;
	PG_TRY();
	{
		/* without a default model the EXISTS, run once, updates nothing */
		if (SPI_execute_plan(leadflow_plan(&refresh_plan,
										   "UPDATE leadflow.lead l"
										   " SET predicted = leadflow.predict(leadflow.routing_document(l))"
										   " WHERE EXISTS (SELECT FROM leadflow.model"
										   "               WHERE name OPERATOR(pg_catalog.=) 'default')"
										   "   AND l.predicted IS DISTINCT FROM"
										   "       leadflow.predict(leadflow.routing_document(l))",
										   0, NULL),
							 NULL, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "leadflow: could not refresh lead.predicted");
		changed = SPI_processed;
	}
	PG_FINALLY();
	{
		leadflow_routing_writes = false;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT64((int64) changed);
}
