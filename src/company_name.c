/*
 * company_name.c
 *	  The key a company name is matched by: leadflow.company_key(name).
 *
 * A lead from a free-mail address (or with no email) finds its account by
 * the company it names.  CRMs spell one company many ways -- "ACME, Inc.",
 * "Acme Incorporated", "Acmé Inc" -- so both sides are compared by a key:
 *
 *	- letters lower-cased; the accented Latin letters of Latin-1 and Latin
 *	  Extended-A folded to their base letters (é -> e, ß -> ss, æ -> ae,
 *	  ł -> l), combining accents dropped;
 *	- ".", "/" and apostrophes removed without a break ("S.A." -> "sa",
 *	  "A/S" -> "as", "O'Neil" -> "oneil"), "&" read as the word "and", every other
 *	  character that is not a letter or digit a word break;
 *	- a leading "the" and trailing legal forms (Inc, Corp, Corporation,
 *	  Ltd, LLC, GmbH, SA, ...; see legal_forms) dropped, with an "and" left
 *	  dangling before one ("Smith & Co" -> "smith"), but never the last
 *	  word left;
 *	- words joined by single spaces.
 *
 * Letters of other scripts are kept as they are.  In a database that is
 * not UTF-8, bytes above 0x7f are kept as they are (no folding).  The key
 * is what leadflow.account.name_key stores, so changing these rules means
 * recomputing that column.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "company_name.h"

/* Accented Latin letters and the ASCII they fold to. */
typedef struct LatinFold
{
	pg_wchar	first;
	pg_wchar	last;
	const char *ascii;
} LatinFold;

static const LatinFold latin_folds[] = {
	{0xC0, 0xC5, "a"}, {0xC6, 0xC6, "ae"}, {0xC7, 0xC7, "c"}, {0xC8, 0xCB, "e"},
	{0xCC, 0xCF, "i"}, {0xD0, 0xD0, "d"}, {0xD1, 0xD1, "n"}, {0xD2, 0xD6, "o"},
	{0xD8, 0xD8, "o"}, {0xD9, 0xDC, "u"}, {0xDD, 0xDD, "y"}, {0xDE, 0xDE, "th"},
	{0xDF, 0xDF, "ss"},
	{0xE0, 0xE5, "a"}, {0xE6, 0xE6, "ae"}, {0xE7, 0xE7, "c"}, {0xE8, 0xEB, "e"},
	{0xEC, 0xEF, "i"}, {0xF0, 0xF0, "d"}, {0xF1, 0xF1, "n"}, {0xF2, 0xF6, "o"},
	{0xF8, 0xF8, "o"}, {0xF9, 0xFC, "u"}, {0xFD, 0xFD, "y"}, {0xFE, 0xFE, "th"},
	{0xFF, 0xFF, "y"},
	{0x100, 0x105, "a"}, {0x106, 0x10D, "c"}, {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
	{0x11C, 0x123, "g"}, {0x124, 0x127, "h"}, {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
	{0x134, 0x135, "j"}, {0x136, 0x138, "k"}, {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
	{0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
	{0x162, 0x167, "t"}, {0x168, 0x173, "u"}, {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
	{0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

/* Words that say what kind of company it is, not which one. */
static const char *const legal_forms[] = {
	"ab", "ag", "aps", "as", "asa", "bv", "co", "company", "corp", "corporation",
	"gmbh", "inc", "incorporated", "kg", "kgaa", "kk", "limited", "llc", "llp",
	"lp", "ltd", "nv", "oy", "oyj", "plc", "pte", "pty", "pvt", "sa", "sarl",
	"sas", "se", "spa", "srl",
};

/* What a character contributes to the key. */
typedef enum CharKind
{
	CHAR_KEEP,					/* letters as given in out */
	CHAR_BREAK,					/* ends a word */
	CHAR_JOIN,					/* dropped without a break */
	CHAR_AND					/* the word "and" */
} CharKind;

static const char *
latin_fold(pg_wchar c)
{
	int			lo = 0,
				hi = lengthof(latin_folds) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < latin_folds[mid].first)
			hi = mid - 1;
		else if (c > latin_folds[mid].last)
			lo = mid + 1;
		else
			return latin_folds[mid].ascii;
	}
	return NULL;
}

/* The kind of code point c; for CHAR_KEEP of a folded letter, *fold is set. */
static CharKind
classify(pg_wchar c, const char **fold)
{
	*fold = NULL;
	if (c < 0x80)
	{
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			return CHAR_KEEP;
		if (c >= 'A' && c <= 'Z')
			return CHAR_KEEP;
		if (c == '.' || c == '\'' || c == '/')
			return CHAR_JOIN;
		if (c == '&')
			return CHAR_AND;
		return CHAR_BREAK;
	}
	if ((*fold = latin_fold(c)) != NULL)
		return CHAR_KEEP;
	if (c >= 0x300 && c <= 0x36F)	/* combining accents */
		return CHAR_JOIN;
	if (c == 0x2018 || c == 0x2019)	/* typographic apostrophes */
		return CHAR_JOIN;
	if (c < 0x100 || (c >= 0x2000 && c <= 0x206F))	/* Latin-1 symbols, general punctuation */
		return CHAR_BREAK;
	return CHAR_KEEP;			/* another script's letter, as it is */
}

static bool
is_legal_form(const char *word, int len)
{
	int			lo = 0,
				hi = lengthof(legal_forms) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			cmp = strncmp(word, legal_forms[mid], len);

		if (cmp == 0)
			cmp = legal_forms[mid][len] == '\0' ? 0 : -1;
		if (cmp == 0)
			return true;
		if (cmp < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return false;
}

/* The words found so far: offsets into the key being built. */
typedef struct Words
{
	StringInfoData text;		/* the words, each followed by a NUL */
	int		   *start;
	int			n;
	int			capacity;
	bool		in_word;
} Words;

static void
word_break(Words *w)
{
	if (w->in_word)
		appendStringInfoChar(&w->text, '\0');
	w->in_word = false;
}

static void
word_append(Words *w, const char *bytes, int len)
{
	if (!w->in_word)
	{
		if (w->n == w->capacity)
		{
			w->capacity *= 2;
			w->start = repalloc(w->start, sizeof(int) * w->capacity);
		}
		w->start[w->n++] = w->text.len;
		w->in_word = true;
	}
	appendBinaryStringInfo(&w->text, bytes, len);
}

static bool
word_is(const Words *w, int i, const char *s)
{
	return strcmp(w->text.data + w->start[i], s) == 0;
}

char *
company_key(const char *name, bool utf8)
{
	Words		w;
	const unsigned char *p = (const unsigned char *) name;
	int			first = 0,
				last;
	StringInfoData key;
	int			i;

	initStringInfo(&w.text);
	w.capacity = 8;
	w.start = palloc(sizeof(int) * w.capacity);
	w.n = 0;
	w.in_word = false;

	while (*p)
	{
		int			len = utf8 ? pg_utf_mblen(p) : 1;
		pg_wchar	c = utf8 && *p >= 0x80 ? utf8_to_unicode(p) : *p;
		const char *fold;
		char		lower;

		/* a truncated sequence at the end: take what is left as one char */
		for (i = 1; i < len; i++)
			if (p[i] == '\0')
				len = i;
		if (!utf8 && c >= 0x80)
		{
			word_append(&w, (const char *) p, 1);
			p++;
			continue;
		}
		switch (classify(c, &fold))
		{
			case CHAR_KEEP:
				if (fold != NULL)
					word_append(&w, fold, strlen(fold));
				else if (c < 0x80)
				{
					lower = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : (char) c;
					word_append(&w, &lower, 1);
				}
				else
					word_append(&w, (const char *) p, len);
				break;
			case CHAR_BREAK:
				word_break(&w);
				break;
			case CHAR_JOIN:
				break;
			case CHAR_AND:
				word_break(&w);
				word_append(&w, "and", 3);
				word_break(&w);
				break;
		}
		p += len;
	}
	word_break(&w);

	/* trailing legal forms, and an "and" they leave dangling; a leading "the" */
	last = w.n - 1;
	while (last > first)
	{
		const char *word = w.text.data + w.start[last];

		if (is_legal_form(word, strlen(word)))
		{
			last--;
			if (last > first && word_is(&w, last, "and"))
				last--;
		}
		else
			break;
	}
	if (last > first && word_is(&w, first, "the"))
		first++;
	if (last < first)
		return NULL;

	initStringInfo(&key);
	for (i = first; i <= last; i++)
	{
		if (i > first)
			appendStringInfoChar(&key, ' ');
		appendStringInfoString(&key, w.text.data + w.start[i]);
	}
	return key.data;
}

PG_FUNCTION_INFO_V1(leadflow_company_key);

/* leadflow.company_key(name text) -> text */
Datum
leadflow_company_key(PG_FUNCTION_ARGS)
{
	char	   *key = company_key(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								  GetDatabaseEncoding() == PG_UTF8);

	if (key == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(key));
}
