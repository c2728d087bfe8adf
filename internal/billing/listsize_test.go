package billing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/billing"
	"ccgtracker/internal/org"
)

// importExtract imports a list-size file in NHS Digital's layout giving
// A81001 (the scene's practice, 4,100 patients in January 2021) size
// patients as at date ("01NOV2026").
func importExtract(t *testing.T, pool *pgxpool.Pool, at time.Time, date, patients string) {
	t.Helper()
	file := "PUBLICATION,EXTRACT_DATE,TYPE,CCG_CODE,ONS_CCG_CODE,CODE,POSTCODE,SEX,AGE,NUMBER_OF_PATIENTS\n" +
		"GP_PRAC_PAT_LIST," + date + ",GP,16C,E38000247,A81001,TS18 1HU,ALL,ALL," + patients + "\n"
	if _, err := org.NewStore(pool, func() time.Time { return at }).ImportListSizes(ctx, org.System(), date+".csv", strings.NewReader(file)); err != nil {
		t.Fatal(err)
	}
}

func emisCharge(t *testing.T, pool *pgxpool.Pool, first time.Time) billing.Line {
	t.Helper()
	lines, err := billing.Lines(ctx, pool, first, billing.Filter{Product: "10000-001"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Kind == billing.KindCharge {
			return l
		}
	}
	t.Fatalf("no Emis Web GP charge in %s: %+v", first.Format("2006-01"), lines)
	return billing.Line{}
}

func adjustmentsIn(t *testing.T, pool *pgxpool.Pool, first time.Time) []billing.Line {
	t.Helper()
	lines, err := billing.Lines(ctx, pool, first, billing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []billing.Line
	for _, l := range lines {
		if l.Kind == billing.KindAdjustment {
			out = append(out, l)
		}
	}
	return out
}

// A month's per-patient charge follows the latest extract dated on or
// before its 1st; earlier months keep theirs; an extract that changes a
// closed month yields exactly its adjustment in the first open month, once.
func TestPerPatientChargeFollowsTheListSizeInForce(t *testing.T) {
	t.Parallel()
	pool, _ := scene(t)
	// The scene's services were made now; date their history before the
	// months this test closes, so that only the extracts can change them.
	if _, err := pool.Exec(ctx, `UPDATE service_instance_history SET at = '2026-01-01'`); err != nil {
		t.Fatal(err)
	}
	svc := billing.NewService(pool, time.Now)

	// October 2026, on the seeded extract of 1 January 2021: £1.26 × 4,100 ÷ 12 = £430.50.
	oct := emisCharge(t, pool, month(2026, 10))
	if oct.Amount != pounds(t, "430.50") || oct.Quantity != 4100 || oct.Charged.ListDate == nil || !oct.Charged.ListDate.Equal(month(2021, 1)) {
		t.Fatalf("October: %s for %d (list of %v)", oct.Amount, oct.Quantity, oct.Charged.ListDate)
	}
	if got := oct.QuantitySource(); got != "list of 1 January 2021" {
		t.Errorf("October's quantity source %q", got)
	}
	if _, err := closeMonth(pool, time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), month(2026, 10)); err != nil {
		t.Fatal(err)
	}
	cached, err := svc.Month(ctx, month(2026, 11))
	if err != nil {
		t.Fatal(err)
	}

	// An extract of 1 November 2026: 6,000 patients. November follows it
	// (£630.00), served afresh although November was cached; October,
	// closed, and September, open but before the extract, keep £430.50;
	// nothing is adjusted (the extract is after October).
	importExtract(t, pool, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), "01NOV2026", "6000")
	nov := emisCharge(t, pool, month(2026, 11))
	if nov.Amount != pounds(t, "630.00") || nov.Quantity != 6000 || !nov.Charged.ListDate.Equal(month(2026, 11)) {
		t.Errorf("November after the extract: %s for %d (list of %v), want £630.00 for 6,000", nov.Amount, nov.Quantity, nov.Charged.ListDate)
	}
	served, err := svc.Month(ctx, month(2026, 11))
	if err != nil {
		t.Fatal(err)
	}
	if served == cached || served.All.Total() != cached.All.Total()+pounds(t, "199.50") {
		t.Errorf("the served November: %s (cached %s), want it recomputed, £199.50 more", served.All.Total(), cached.All.Total())
	}
	if got := emisCharge(t, pool, month(2026, 10)).Amount; got != pounds(t, "430.50") {
		t.Errorf("closed October changed to %s", got)
	}
	if got := emisCharge(t, pool, month(2026, 9)); got.Amount != pounds(t, "430.50") || got.Quantity != 4100 {
		t.Errorf("September changed to %s for %d", got.Amount, got.Quantity)
	}
	if adj := adjustmentsIn(t, pool, month(2026, 11)); len(adj) != 0 {
		t.Errorf("a November extract adjusted closed months: %+v", adj)
	}
	ch := billing.Charge{DaysCharged: nov.DaysCharged, DaysInMonth: nov.DaysInMonth, Amount: nov.Amount, Payable: nov.Payable}
	if got := billing.Explain(nov.Charged, ch, "patients", month(2026, 11)); !strings.Contains(got, "6,000 patients, list of 1 November 2026") {
		t.Errorf("November explained: %q", got)
	}

	// A late extract of 1 October 2026 (5,000 patients) changes closed
	// October: £1.26 × 5,000 ÷ 12 = £525.00, so November carries +£94.50
	// for it, naming the extract; November's own charge stays on November's.
	importExtract(t, pool, time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), "01OCT2026", "5000")
	adj := adjustmentsIn(t, pool, month(2026, 11))
	if len(adj) != 1 || adj[0].Amount != pounds(t, "94.50") || !adj[0].Corrects.Equal(month(2026, 10)) || !adj[0].Charged.ListDate.Equal(month(2026, 10)) {
		t.Fatalf("adjustments for the October extract: %+v", adj)
	}
	if got := emisCharge(t, pool, month(2026, 11)).Amount; got != pounds(t, "630.00") {
		t.Errorf("November's charge after the October extract: %s", got)
	}
	if got := emisCharge(t, pool, month(2026, 10)); got.Amount != pounds(t, "430.50") || !got.Charged.ListDate.Equal(month(2021, 1)) {
		t.Errorf("closed October, frozen: %s (list of %v)", got.Amount, got.Charged.ListDate)
	}
	// Importing the same extract again changes nothing: still one adjustment.
	importExtract(t, pool, time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), "01OCT2026", "5000")
	if adj := adjustmentsIn(t, pool, month(2026, 11)); len(adj) != 1 || adj[0].Amount != pounds(t, "94.50") {
		t.Errorf("after the same extract again: %+v", adj)
	}

	// Closing November freezes the adjustment with it: once, not again in December.
	if _, err := closeMonth(pool, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), month(2026, 11)); err != nil {
		t.Fatal(err)
	}
	if adj := adjustmentsIn(t, pool, month(2026, 12)); len(adj) != 0 {
		t.Errorf("December repeats the adjustment: %+v", adj)
	}
	// November, now frozen, still names its extract.
	if got := emisCharge(t, pool, month(2026, 11)); got.Amount != pounds(t, "630.00") || got.Charged.ListDate == nil || !got.Charged.ListDate.Equal(month(2026, 11)) {
		t.Errorf("frozen November: %s (list of %v)", got.Amount, got.Charged.ListDate)
	}
}

// Before a practice's first extract there is no list size in force: a
// per-patient price is charged on the order's own quantity, and the line
// says so.
func TestBeforeTheFirstExtractTheOrderedQuantityIsCharged(t *testing.T) {
	t.Parallel()
	pool, _ := scene(t)
	if _, err := pool.Exec(ctx, `DELETE FROM practice_list_sizes WHERE practice_code = 'A81001'`); err != nil {
		t.Fatal(err)
	}
	importExtract(t, pool, time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), "01NOV2026", "6000")
	// The scene ordered 4,100: October is charged on it.
	oct := emisCharge(t, pool, month(2026, 10))
	if oct.Quantity != 4100 || oct.Charged.ListDate != nil || !oct.Charged.PerPatient || oct.Amount != pounds(t, "430.50") {
		t.Errorf("October before the first extract: %s for %d (list %v)", oct.Amount, oct.Quantity, oct.Charged.ListDate)
	}
	if got := oct.QuantitySource(); !strings.HasPrefix(got, "as ordered") {
		t.Errorf("October's source: %q", got)
	}
	if nov := emisCharge(t, pool, month(2026, 11)); nov.Quantity != 6000 {
		t.Errorf("November, on the first extract: %d", nov.Quantity)
	}
}
