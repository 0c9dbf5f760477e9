/*
 * robust.c - a robust seasonal baseline with episodes, level shifts and
 * recurring peaks: the detector a FinOps channel can leave unmuted.
 *
 * In one sentence: anomalous when the value is at least `ratio` x the
 * expected value AND more than `min_excess` above it AND more than `k`
 * robust deviations above it, where the expected value is the `percentile`
 * (median by default) of the recent history after dividing out the weekly
 * profile.
 *
 * The model, slot by slot (up; down mirrors it; both takes the side the
 * value is on):
 *   profile   S(phase): phase = day of week (daily series) or hour of week
 *             (hourly); S = median of the last `weeks` accepted values of
 *             that phase / the mean of those medians over all phases,
 *             clamped to [0.1, 10]; 1 until a phase has three values (a
 *             median of three ignores one outlier), and 1
 *             for periods under an hour or over a day (no profile).  An
 *             hour of the week whose median is below both of its
 *             neighbours' takes the lower of theirs: with four values a
 *             phase, such a lone low hour is noise far more often than a
 *             quiet hour, and it made false alerts every week.
 *   level     L = the `percentile` of the last `window` worth of accepted
 *             values, each divided by its S when it was accepted.
 *   expected  b = L x S(phase of the judged slot).
 *   scale     sd = max(1.4826 x MAD of those values, scale_floor x L) x S.
 *   limit     max(ratio x b, b + min_excess, b + k x sd).  When L is 0 (a
 *             sparse series, most periods without traffic), the limit is
 *             at least the largest value in the window.
 * "Accepted" means judged ok: anomalies, episode periods and recurring
 * peaks never feed the level or the scale (no contamination).  The
 * profile takes every value: a median per phase over several weeks is
 * not moved by one anomaly, and this is how a new nightly batch hour
 * becomes part of the profile instead of alerting forever.
 *
 * Episodes: an anomaly opens an episode that stays open while the value
 * stays elevated (beyond half of the excess that opened it: b + (limit -
 * b) / 2).  Each of its periods is an anomaly that names the episode's
 * start, length and peak, so the alert state announces it once (plus
 * growth).
 *
 * Level shifts: when at least 5/7 of the last `shift_after` periods were
 * elevated, the new level is accepted: the level window is refilled with
 * the elevated ones among them (not the days before an episode that
 * became a shift: with them, a shift that goes back leaves a window of two
 * levels), the episode closes, and that one period is reported as
 * an anomaly of kind "level_shift"; the next ones are judged against the
 * new level.  A level on the side not judged (for `up`: 5/7 of the periods
 * below both halfway to b / ratio and one robust deviation under b: a
 * drop, or a shift that went back) restarts the window the same way,
 * silently: the next spike is judged against the new normal.  Until a
 * window restarted at a higher level is full again, such low values do
 * not feed it: mixed in, the values of a shift that went back (a ramp
 * accepted as a shift) made a window of two levels whose MAD hid that
 * they were low, and the level came down over weeks.
 *
 * Recurring peaks (periods of a day or less): a would-be anomaly whose
 * place in the month (the same day counted from the month's end, the same
 * day of the month, or the same business day, at the same time of day)
 * held a peak (a value above ratio x its expected value) in 2 of the last
 * 3 months (1 of 1 while only one was judged; 1 of 3 when that peak was
 * itself recurring at the same place: an established job that skipped a
 * month or ran on a holiday) is ok, of kind "recurring_peak", also inside
 * an episode (which stays open without it), unless it is more than
 * `peak_factor` x the largest of those past peaks (0 turns this off); the
 * comparison is made with the weekly profile divided out.  A past peak
 * explains one place of a month (a job runs once: the 1st business day's
 * peaks do not also make the 3rd of the month recurring).  A month's last
 * day is the same day of the month only for another month's last day
 * (April 30's job does not make July 30 recurring), and the peaks of an
 * episode with three peaks over two days or more are no job's run.
 *
 * min_history defaults to 3 weeks, when every phase of the profile has the
 * three values it needs.  Assumes non-negative data (bytes, requests).
 *
 * Defaults depend on the period (a day or more / an hour or more /
 * shorter): window 28d / 7d / 1d, weeks 8 / 4 / 0, ratio 2.5 / 2.5 / 2,
 * k 6 / 7 / 6, shift_after 7d / 2d / 6h.  Series with a period under
 * `min_period` (1h) are left to `newhigh`: every period is ok, with no
 * baseline; min_period=0 judges them with the short-period defaults.
 *
 * Stateful, yet `run` keeps nothing between calls: every call replays the
 * series from its first slot and emits only [from, to), so judging the
 * last period alone gives exactly the verdict that judging every period
 * gives for it.  Per slot: a sorted window (robust_window.c: ranks
 * counted in one pass in short windows, in two levels of blocks in longer
 * ones, and one move of the values between the two), the profile median
 * of `weeks` values, computed ahead of the verdicts a chunk at a time (the
 * profile takes every value, so it does not wait on them), the MAD by a
 * search over the two sides of the median started from the last split
 * (O(log window)), computed only for slots that could be anomalous or are
 * emitted.  The per-call buffers are allocated in `run`; the state from
 * create is never written.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "err.h"
#include "robust_window.h"

enum {
	P_WINDOW = CW_P_FIRST_OWN, P_WEEKS, P_RATIO, P_K, P_SCALE_FLOOR, P_MIN_EXCESS,
	P_PERCENTILE, P_SHIFT_AFTER, P_PEAK_FACTOR, P_MIN_PERIOD,
};

#define WEEK 604800
#define DAYS 86400
#define MAX_WEEKS 26
#define MAD_NORMAL 1.4826

static inline double dmax(double a, double b) { return a > b ? a : b; }
static inline double dmin(double a, double b) { return a < b ? a : b; }

static const struct cw_param_spec robust_params[] = {
	{ "window", CW_PARAM_DURATION, NAN, 3600, 366.0 * 86400, NULL,
	  "recent history whose percentile is the level (per period: 28d, 7d, 1d)" },
	{ "weeks", CW_PARAM_NUMBER, NAN, 0, MAX_WEEKS, NULL,
	  "weeks of the day-of-week / hour-of-week profile, 0 = none (per period: 8, 4, 0)" },
	{ "ratio", CW_PARAM_NUMBER, NAN, 1.0, 1000.0, NULL,
	  "anomalous only at ratio x the expected value or more (per period: 2.5, 2.5, 2)" },
	{ "k", CW_PARAM_NUMBER, NAN, 0, 1000.0, NULL,
	  "and only beyond k robust deviations (MAD) (per period: 6, 7, 6)" },
	{ "scale_floor", CW_PARAM_NUMBER, 0.1, 0, 10.0, NULL,
	  "the robust deviation is at least this fraction of the level" },
	{ "min_excess", CW_PARAM_BYTES, 0, 0, 1e21, NULL,
	  "and only when the value differs from the expected one by more than this" },
	{ "percentile", CW_PARAM_NUMBER, 50, 1, 99, NULL,
	  "which percentile of the recent history is the level (50 = median)" },
	{ "shift_after", CW_PARAM_DURATION, NAN, 3600, 90.0 * 86400, NULL,
	  "accept a new level once 5/7 of this much history sits there (7d, 2d, 6h)" },
	{ "peak_factor", CW_PARAM_NUMBER, 2.0, 0, 1000.0, NULL,
	  "a peak recurring in the month is ok unless above this x its past peaks; 0 = off" },
	{ "min_period", CW_PARAM_DURATION, 3600, 0, 86400, NULL,
	  "series with a shorter period are left to newhigh (judged ok); 0 = judge all" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static int robust_create(void **state, const double *p, char *err, size_t errlen)
{
	*state = NULL;
	if (!isnan(p[P_WEEKS]) && p[P_WEEKS] != floor(p[P_WEEKS]))
		return cw_fail(err, errlen, CW_EINVAL, "weeks: must be a whole number, got %g",
			       p[P_WEEKS]);
	return 0;
}

/* The parameters resolved for one series. */
struct cfg {
	size_t w;        /* level window, values */
	size_t weeks;    /* profile depth, 0 = no profile */
	size_t nphase;   /* phases in a week */
	size_t shift;    /* shift_after, periods */
	double ratio, k, floor, mex, pct, peakf;
	int dir;
};

/* Per-call working state. */
struct work {
	double *fifo;     /* accepted deseasonalised values, ring of w */
	size_t head, cnt;
	double *srt;      /* the same values sorted */
	double wsum;
	size_t mad_at;    /* where the last MAD split the two sides */
	double *prof;     /* nphase x weeks rings of the values, by time */
	double *psrt;     /* the same, sorted per phase */
	uint8_t *pcnt, *ppos;
	double *med;      /* per phase median */
	double medsum;    /* of the medians of the phases with three values */
	size_t medn;      /* how many phases those are */
	struct flags {    /* flags of the last `shift` judged periods */
		uint8_t *v;
		size_t head, cnt, sum;
	} high, low;      /* elevated; far on the side not judged (up: below) */
	uint8_t *peak;    /* per slot: 0 not judged, 1 judged, 2 a peak, 3 + anchor a recurring one */
	int32_t *used;    /* per peak: the month (y x 12 + m) it explained a slot of */
	double *dval;     /* per slot: value / S at its time (NaN when none) */
};

static inline void win_push(struct work *wk, size_t cap, double d)
{
	if (wk->cnt == cap) {
		double old = wk->fifo[wk->head];
		cw_sorted_replace(wk->srt, wk->cnt, old, d);
		wk->wsum += d - old;
		wk->fifo[wk->head] = d;
		wk->head = wk->head + 1 == cap ? 0 : wk->head + 1;
		return;
	} else {
		size_t at = wk->head + wk->cnt;
		wk->fifo[at >= cap ? at - cap : at] = d;
	}
	cw_sorted_insert(wk->srt, wk->cnt, d);
	wk->cnt++;
	wk->wsum += d;
}

/* S of a phase whose median is med, when the medians' sum is medsum over
 * medn phases (medn 0 also for a phase without three values: S is 1) */
static double profile(double med, double medsum, double medn)
{
	double avg = medn != 0 ? medsum / medn : 0;
	if (!(avg > 0))
		return 1.0;
	double f = med / avg;
	return f < 0.1 ? 0.1 : f > 10 ? 10 : f;
}

/* The median that stands for phase ph: its own, but for an hour of the
 * week below both of its neighbours, the lower of theirs.  A median of
 * `weeks` (4) noisy values makes such a lone low hour by chance far more
 * often than a bucket has a quiet hour; a batch hour above its neighbours
 * stays as it is. */
static inline double phase_median(const struct cfg *c, const struct work *wk, size_t ph)
{
	size_t a = ph ? ph - 1 : c->nphase - 1, z = ph + 1 == c->nphase ? 0 : ph + 1;

	if (c->nphase > 7 && wk->pcnt[a] >= 3 && wk->pcnt[z] >= 3)
		return dmax(wk->med[ph], dmin(wk->med[a], wk->med[z]));
	return wk->med[ph];
}

static void profile_feed(const struct cfg *c, struct work *wk, size_t ph, double v)
{
	double *ring = wk->prof + ph * c->weeks;
	double *srt = wk->psrt + ph * c->weeks;
	size_t n = wk->pcnt[ph];

	if (!c->weeks)
		return;
	if (n == c->weeks) /* the oldest value of this phase gives way */
		cw_sorted_replace(srt, n, ring[wk->ppos[ph]], v);
	else
		cw_sorted_insert(srt, n++, v);
	ring[wk->ppos[ph]] = v;
	wk->ppos[ph] = (uint8_t)((size_t)wk->ppos[ph] + 1 == c->weeks ? 0 : wk->ppos[ph] + 1);
	wk->pcnt[ph] = (uint8_t)n;
	double m = n % 2 ? srt[n / 2] : (srt[n / 2 - 1] + srt[n / 2]) / 2;
	if (n == 3)
		wk->medn++;
	else if (n > 3)
		wk->medsum -= wk->med[ph];
	if (n >= 3)
		wk->medsum += m;
	wk->med[ph] = m;
}

/*
 * The profile takes every value, whatever the verdicts, so it runs ahead
 * of them, a chunk of slots at a time: each slot's factor S (the profile
 * before its own value joins) and its deseasonalised value v / S.  First
 * the values join, each slot noting what its S is made of; then the
 * divisions, which no longer wait on one another nor on each verdict.
 */
enum { CHUNK = 256 };

static void profile_ahead(const struct cfg *c, struct work *wk, const double *x, size_t lo,
			  size_t hi, size_t *phase, double *sfac)
{
	size_t ph = *phase;

	if (!c->weeks) { /* no profile: S is 1 and v / 1 is v (NaN for a gap) */
		for (size_t i = lo; i < hi; i++) {
			sfac[i - lo] = 1.0;
			wk->dval[i] = x[i];
		}
		return;
	}
	/* on a copy: its sums stay in registers instead of being reloaded
	 * after each store to the arrays (which might have changed them) */
	struct work w = *wk;
	double med[CHUNK], sum[CHUNK], cnt[CHUNK];
	for (size_t i = lo; i < hi; i++) {
		double v = x[i];
		size_t at = ph;
		ph = ph + 1 == c->nphase ? 0 : ph + 1;
		if (isnan(v))
			continue;
		med[i - lo] = phase_median(c, &w, at);
		sum[i - lo] = w.medsum;
		cnt[i - lo] = w.pcnt[at] < 3 ? 0 : (double)w.medn;
		profile_feed(c, &w, at, v);
	}
	*wk = w;
	*phase = ph;
	for (size_t i = lo; i < hi; i++) {
		double v = x[i];
		wk->dval[i] = NAN;
		if (isnan(v))
			continue;
		double S = profile(med[i - lo], sum[i - lo], cnt[i - lo]);
		sfac[i - lo] = S;
		wk->dval[i] = v / S;
	}
}

static size_t phase_of(const struct cw_series *s, size_t i, const struct cfg *c)
{
	if (!c->weeks)
		return 0;
	int64_t t = cw_series_time(s, i) % WEEK;
	if (t < 0)
		t += WEEK;
	return (size_t)(t / s->period);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

static bool weekday(int64_t days) /* Mon-Fri; 1970-01-01 was a Thursday */
{
	int64_t w = ((days % 7) + 7 + 3) % 7; /* 0 = Monday */
	return w < 5;
}

/* The n-th business day (Mon-Fri) of a month, or 0. */
static int nth_business(int64_t y, int m, int n)
{
	int64_t d0 = days_from_civil(y, m, 1);
	int dim = days_in_month(y, m), k = 0;
	for (int d = 1; d <= dim; d++)
		if (weekday(d0 + d - 1) && ++k == n)
			return d;
	return 0;
}

/*
 * Recurring peak: true when slot i's place in the month held a peak in 2 of
 * the last 3 months and v is within peak_factor x the largest of them.  A
 * past peak explains one slot of a month: one that already explained
 * another this month (the job ran on the 1st business day; this is the
 * 3rd of the month, which it also fell on last month) does not count.
 */
static bool recurring(const struct cfg *c, struct work *wk,
		      const struct cw_series *s, size_t i, double v)
{
	/* v and the past peaks are compared with the weekly profile divided
	 * out: a month-end on a Tuesday is not "far above" one on a Sunday */
	int64_t t = cw_series_time(s, i);
	int64_t day = t >= 0 ? t / DAYS : (t - DAYS + 1) / DAYS;
	int64_t tod = t - day * DAYS, y;
	int m, d;

	if (!(c->peakf > 0) || s->period > DAYS)
		return false;
	civil_from_days(day, &y, &m, &d);
	int32_t month = (int32_t)(y * 12 + m); /* never 0 for a real date */
	int dim = days_in_month(y, m), bo = 0;
	if (weekday(day)) {
		int64_t d0 = days_from_civil(y, m, 1);
		for (int k = 1; k <= d; k++)
			bo += weekday(d0 + k - 1);
	}
	for (int anchor = 0; anchor < 3; anchor++) {
		int hits = 0, seen = 0;
		bool est = false; /* a past peak recurred at this place */
		size_t used[3];
		double top = 0;
		for (int back = 1; back <= 3; back++) {
			int64_t y2 = y;
			int m2 = m - back;
			while (m2 < 1) {
				m2 += 12;
				y2--;
			}
			int dim2 = days_in_month(y2, m2), d2;
			if (anchor == 0)
				d2 = dim2 - (dim - d);
			else if (anchor == 1) /* a month's last day stands
						* for the last day only */
				d2 = d < dim2 || (d == dim2 && d == dim) ? d : 0;
			else
				d2 = bo ? nth_business(y2, m2, bo) : 0;
			if (d2 < 1 || d2 > dim2)
				continue;
			int64_t t2 = days_from_civil(y2, m2, d2) * DAYS + tod;
			if (t2 < s->start)
				continue;
			size_t j = (size_t)((t2 - s->start) / s->period);
			if (j >= i || !wk->peak[j]) /* not judged (too early, a gap) */
				continue;
			seen++;
			if (wk->peak[j] < 2 || wk->used[j] == month)
				continue;
			est |= wk->peak[j] == 3 + anchor;
			used[hits++] = j;
			if (wk->dval[j] > top)
				top = wk->dval[j];
		}
		/* 2 of the last 3 months; 1 of 1 while the history holds only
		 * one of them (a new series: the job's second run); 1 of 3
		 * when that peak was itself recurring at this place (the
		 * same anchor): an established job that skipped a month or
		 * ran on a holiday */
		if (hits >= 2 || (hits == 1 && (seen == 1 || est))) {
			if (!(v <= c->peakf * top))
				return false;
			for (int h = 0; h < hits; h++)
				wk->used[used[h]] = month;
			wk->peak[i] = (uint8_t)(3 + anchor);
			return true;
		}
	}
	return false;
}

static void resolve(struct cfg *c, const double *p, const struct cw_series *s)
{
	int64_t per = s->period;
	double w = cw_param_auto(p[P_WINDOW], per, 28.0 * DAYS, 7.0 * DAYS, 1.0 * DAYS);
	double sh = cw_param_auto(p[P_SHIFT_AFTER], per, 7.0 * DAYS, 2.0 * DAYS, 6.0 * 3600);
	double weeks = cw_param_auto(p[P_WEEKS], per, 8, 4, 0);

	c->w = (size_t)(w / (double)per);
	if (c->w < 3)
		c->w = 3;
	c->shift = (size_t)(sh / (double)per);
	if (c->shift < 2)
		c->shift = 2;
	c->weeks = (size_t)weeks;
	if (per < 3600 || per > DAYS || WEEK % per != 0)
		c->weeks = 0;
	if (c->weeks > MAX_WEEKS)
		c->weeks = MAX_WEEKS;
	c->nphase = c->weeks ? (size_t)(WEEK / per) : 1;
	c->ratio = cw_param_auto(p[P_RATIO], per, 2.5, 2.5, 2.0);
	c->k = cw_param_auto(p[P_K], per, 6.0, 7.0, 6.0);
	c->floor = p[P_SCALE_FLOOR];
	c->mex = p[P_MIN_EXCESS];
	c->pct = p[P_PERCENTILE];
	c->peakf = p[P_PEAK_FACTOR];
	c->dir = (int)p[CW_P_DIRECTION];
}

static void work_free(struct work *wk)
{
	free(wk->fifo);
	free(wk->srt);
	free(wk->prof);
	free(wk->psrt);
	free(wk->pcnt);
	free(wk->ppos);
	free(wk->med);
	free(wk->high.v);
	free(wk->low.v);
	free(wk->peak);
	free(wk->used);
	free(wk->dval);
}

static int work_init(struct work *wk, const struct cfg *c, size_t n)
{
	memset(wk, 0, sizeof(*wk));
	wk->fifo = malloc(c->w * sizeof(double));
	wk->srt = malloc(c->w * sizeof(double));
	wk->prof = calloc(c->nphase * (c->weeks ? c->weeks : 1), sizeof(double));
	wk->psrt = calloc(c->nphase * (c->weeks ? c->weeks : 1), sizeof(double));
	wk->pcnt = calloc(c->nphase, 1);
	wk->ppos = calloc(c->nphase, 1);
	wk->med = calloc(c->nphase, sizeof(double));
	wk->high.v = calloc(c->shift, 1);
	wk->low.v = calloc(c->shift, 1);
	wk->peak = calloc(n ? n : 1, 1);
	wk->used = calloc(n ? n : 1, sizeof(int32_t));
	wk->dval = malloc((n ? n : 1) * sizeof(double));
	if (!wk->fifo || !wk->srt || !wk->prof || !wk->psrt || !wk->pcnt || !wk->ppos || !wk->med ||
	    !wk->high.v || !wk->low.v || !wk->peak || !wk->used || !wk->dval) {
		work_free(wk);
		return CW_ENOMEM;
	}
	return 0;
}

static inline void flags_push(struct flags *r, size_t cap, uint8_t f)
{
	if (r->cnt == cap) {
		r->sum -= r->v[r->head];
		r->v[r->head] = f;
		r->head = r->head + 1 == cap ? 0 : r->head + 1;
	} else {
		size_t at = r->head + r->cnt;
		r->v[at >= cap ? at - cap : at] = f;
		r->cnt++;
	}
	r->sum += f;
}

/* The level moved: the window restarts from those of the last `shift`
 * judged periods up to i that sit at the new level (flagged in r, a full
 * ring), and both flag rings from nothing.  The others (the days before an
 * episode that became a shift, a transition) are not the new level: with
 * them, a shift that goes back leaves a window of two levels and a scale
 * inflated for weeks. */
static void relevel(struct work *wk, const struct cfg *c, size_t i, const struct flags *r)
{
	size_t got = 0, k = i + 1, f = r->head; /* the oldest flag */

	wk->cnt = 0;
	wk->head = 0;
	wk->wsum = 0;
	while (k > 0 && got < r->cnt) {
		k--;
		if (isnan(wk->dval[k]))
			continue;
		got++;
	}
	for (; k <= i; k++) {
		if (isnan(wk->dval[k]))
			continue;
		if (r->v[f])
			win_push(wk, c->w, wk->dval[k]);
		f = f + 1 == r->cnt ? 0 : f + 1;
	}
	wk->high.cnt = wk->high.sum = wk->high.head = 0;
	wk->low.cnt = wk->low.sum = wk->low.head = 0;
}

/* An episode with three peaks over two days or more is no month's job
 * run: its peaks so far (slots ep_start..i, walked once; the later ones are
 * unmarked as they come) are no peaks a recurring one could stand on.  Two
 * peaks a day apart may be a busy day next to the job. */
static void unpeak(struct work *wk, size_t ep_start, size_t i)
{
	for (size_t k = ep_start; k <= i; k++)
		if (wk->peak[k] == 2)
			wk->peak[k] = 1;
}

static int robust_run(const void *state, const double *p, const struct cw_series *s,
		      size_t from, size_t to,
		      int (*emit)(void *ctx, const struct cw_judgement *j), void *ctx)
{
	const double *x = s->values;
	struct cfg c;
	struct work wk;
	bool open = false;
	bool ep_many = false; /* the episode held three peaks over two days: no job run */
	unsigned ep_peaks = 0;
	bool fresh = false; /* the window restarted at a higher level, not yet full */
	size_t ep_start = 0;
	uint32_t ep_len = 0;
	double ep_peak = 0;
	int rc = 0;

	(void)state;
	if ((double)s->period < p[P_MIN_PERIOD]) {
		/* minute-level series belong to newhigh: ok, without a baseline */
		for (size_t i = from; i < to && !rc; i++) {
			if (isnan(x[i]))
				continue;
			struct cw_judgement j = cw_judgement_start(s, i, p);
			j.status = CW_STATUS_OK;
			rc = emit(ctx, &j);
		}
		return rc;
	}
	resolve(&c, p, s);
	if (work_init(&wk, &c, to))
		return CW_ENOMEM;
	size_t need = (c.shift * 5 + 6) / 7;
	size_t qn = 0; /* the window length qpos and qmid are for */
	double qpos = 0, qmid = 0;

	size_t phase = to ? phase_of(s, 0, &c) : 0;
	double sfac[CHUNK]; /* the profile factor of each slot of the chunk */
	for (size_t i = 0; i < to; i++) {
		if (i % CHUNK == 0)
			profile_ahead(&c, &wk, x, i, i + CHUNK < to ? i + CHUNK : to, &phase, sfac);
		double v = x[i];
		if (isnan(v))
			continue;
		double S = sfac[i % CHUNK];
		struct cw_judgement j = cw_judgement_start(s, i, p);
		bool accept = true;

		if (wk.cnt >= 3) {
			if (wk.cnt != qn) {
				qn = wk.cnt;
				qpos = cw_quantile_pos(qn, c.pct);
				qmid = cw_quantile_pos(qn, 50);
			}
			double L0 = cw_sorted_quantile(wk.srt, wk.cnt, qpos), L = L0;
			bool sparse = !(L > 0);
			if (sparse)
				L = wk.wsum / (double)wk.cnt;
			double b = L * S;
			bool up = c.dir == CW_DIR_UP || (c.dir == CW_DIR_BOTH && v >= b);
			double hi0 = dmax(c.ratio * b, b + c.mex);
			double lo0 = dmin(b / c.ratio, b - c.mex);
			if (sparse)
				hi0 = dmax(hi0, wk.srt[wk.cnt - 1] * S);
			bool maybe = up ? v > b + 0.5 * (hi0 - b) : v < b - 0.5 * (b - lo0);
			double lim = up ? hi0 : lo0, sd = NAN;
			/* far on the side not judged (a drop, for up), on a series
			 * that is not sparse: halfway to b / ratio, and beyond one
			 * robust deviation (not just below the median when ratio
			 * is 1) */
			bool far = !sparse & (c.dir != CW_DIR_BOTH) &
				   (c.dir == CW_DIR_UP ? v < b - 0.5 * (b - lo0)
						       : v > b + 0.5 * (hi0 - b));
			if (i >= from || (maybe | far)) {
				double m = c.pct == 50 ? L0 : cw_sorted_quantile(wk.srt, wk.cnt, qmid);
				sd = dmax(MAD_NORMAL * cw_sorted_mad(wk.srt, wk.cnt, m, &wk.mad_at), c.floor * L) * S;
				lim = up ? dmax(hi0, b + c.k * sd) : dmin(lo0, b - c.k * sd);
			}
			bool elevated = maybe & (up ? v > b + 0.5 * (lim - b) : v < b - 0.5 * (b - lim));
			bool anomalous = up ? v > lim : v < lim;
			wk.peak[i] = 1 + (up & (v > hi0) & (v > c.ratio * b));
			j.baseline = b;
			j.limit = lim;
			j.status = CW_STATUS_OK;
			bool low = far & (c.dir == CW_DIR_UP ? v < b - sd : v > b + sd);
			flags_push(&wk.high, c.shift, elevated);
			flags_push(&wk.low, c.shift, low);

			if (open && !elevated)
				open = false;
			if (anomalous && up && recurring(&c, &wk, s, i, wk.dval[i])) {
				/* the month's job, also inside an episode: that
				 * one stays open, without this period */
				j.kind = "recurring_peak";
				accept = false;
			} else if (open) {
				j.status = CW_STATUS_ANOMALY;
				ep_len++;
				if (ep_many && wk.peak[i] == 2)
					wk.peak[i] = 1;
				else if (wk.peak[i] == 2 && ++ep_peaks >= 3 &&
					 (int64_t)(i - ep_start) * s->period >= 2 * DAYS) {
					unpeak(&wk, ep_start, i);
					ep_many = true;
				}
				if (up ? v > ep_peak : v < ep_peak)
					ep_peak = v;
				accept = false;
			} else if (anomalous) {
				j.status = CW_STATUS_ANOMALY;
				open = true;
				ep_many = false;
				ep_peaks = wk.peak[i] == 2;
				ep_start = i;
				ep_len = 1;
				ep_peak = v;
				accept = false;
			}
			if (j.status == CW_STATUS_ANOMALY) {
				j.episode_start = cw_series_time(s, ep_start);
				j.episode_len = ep_len;
				j.episode_peak = ep_peak;
			}
			if (low && fresh) /* the shift going back: not its level */
				accept = false;
			if (elevated && wk.high.sum >= need && wk.high.cnt == c.shift) {
				/* most of the recent history sits at a new level */
				relevel(&wk, &c, i, &wk.high);
				fresh = true;
				accept = false;
				open = false;
				j.status = CW_STATUS_ANOMALY;
				j.kind = "level_shift";
			} else if (low && wk.low.sum >= need && wk.low.cnt == c.shift) {
				/* ... or at one on the side not judged (a drop, or a
				 * shift that went back): the new normal, silently */
				relevel(&wk, &c, i, &wk.low);
				fresh = false;
				accept = false;
			}
		}
		if (accept) {
			win_push(&wk, c.w, wk.dval[i]);
			fresh = fresh && wk.cnt < c.w;
		}
		if (i >= from) {
			if (!isnan(j.baseline)) /* divided only for what is emitted */
				j.score = j.baseline != 0 ? v / j.baseline : NAN;
			rc = emit(ctx, &j);
			if (rc)
				break;
		}
	}
	work_free(&wk);
	return rc;
}

const struct cw_detector_ops cw_detector_robust = {
	.name = "robust",
	.summary = "value at ratio x, min_excess and k robust deviations above the "
		   "weekly-profiled median of recent history; episodes, level shifts, "
		   "month-end peaks",
	.params = robust_params,
	.default_min_history = 21 * 86400, /* three weeks: the profile counts from three values */
	.default_min_excess_usd = 3.0,
	.create = robust_create,
	.run = robust_run,
	.destroy = NULL,
};
