package tracker_test

import (
	"strings"
	"testing"

	"ccgtracker/internal/tracker"
)

func TestReviewChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The GP clinical systems of the continuity services are on GP IT
	// Futures here, and so, by its parent, is an Additional Service of one;
	// Anywhere Consult (the order's) is not.
	_, err := f.pool.Exec(ctx, `INSERT INTO framework_solutions (framework_id, item_id)
		SELECT DISTINCT 'NHSDGP001', catalogue_item_id FROM service_instances WHERE agreement_id IS NOT NULL`)
	must(t, err)
	var additional string
	must(t, f.pool.QueryRow(ctx, `
		UPDATE service_instances si SET catalogue_item_id = (SELECT min(id) FROM catalogue_items WHERE parent_id = si.catalogue_item_id)
		WHERE agreement_id IS NOT NULL AND practice_code = 'A81002'
		RETURNING 'SI' || id || '-' || practice_code`).Scan(&additional))

	// A81001 loses both its services; A81002 keeps its planned one.
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81001", Instance: f.live, Date: day(2026, 11, 20)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cancellation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 21)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Cessation, Practice: "A81002", Instance: additional, Date: day(2026, 11, 22)}))
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81004", Instance: f.planned[2], Date: day(2026, 11, 23)}))
	r := f.ret()
	checks, err := tracker.ReviewChecks(ctx, f.pool, r)
	must(t, err)

	const offFramework, leftEmpty = "only on a GPSoC Transition Assistance Notice", "would be left with no planned or active service"
	cases := []struct {
		name     string
		line     int
		want     []string
		dontWant []string
	}{
		{"CessationOnFrameworkLeavesPracticeEmpty", 0, []string{leftEmpty}, []string{offFramework}},
		{"CancellationOffFrameworkLeavesPracticeEmpty", 1, []string{offFramework, "Anywhere Consult (10000-002)", leftEmpty}, nil},
		{"AdditionalServiceCountsByItsParent", 2, nil, []string{offFramework, leftEmpty}},
		{"ActivationOffFrameworkTakesNothingAway", 3, []string{offFramework}, []string{leftEmpty}},
	}
	for _, c := range cases {
		got := strings.Join(checks[r.Lines[c.line].ID], " | ")
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: checks %q, want %q", c.name, got, w)
			}
		}
		for _, w := range c.dontWant {
			if strings.Contains(got, w) {
				t.Errorf("%s: checks %q, want no %q", c.name, got, w)
			}
		}
	}
}

func TestReviewChecksOfAMerger(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Merger, Practice: "A81001", Targets: []string{"A81002"}, Date: day(2026, 11, 30)}))
	r := f.ret()
	checks, err := tracker.ReviewChecks(ctx, f.pool, r)
	must(t, err)
	if got := strings.Join(checks[r.Lines[0].ID], " | "); !strings.Contains(got, "as expected of a practice that merged") {
		t.Errorf("merger checks: %q", got)
	}
}

// A change dated in a month finance has closed is flagged: accepting it
// will make an adjustment.
func TestReviewChecksOfAClosedMonth(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	must(t, f.add(tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}))
	if _, err := f.pool.Exec(ctx, `INSERT INTO billing_months (period, closed_at) VALUES ('2026-11-01', now())`); err != nil {
		t.Fatal(err)
	}
	r := f.ret()
	checks, err := tracker.ReviewChecks(ctx, f.pool, r)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range checks[r.Lines[0].ID] {
		found = found || strings.Contains(c, "November 2026, a billing month finance has closed")
	}
	if !found {
		t.Errorf("checks %v lack the closed month", checks)
	}
}
