package billing_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"ccgtracker/internal/billing"
	"ccgtracker/internal/money"
)

// The service computes a month once, however many ask at once, and its
// page, totals and filters agree with the engine's lines, open and then
// closed (summed and paged in SQL).
func TestServiceMonthOnceAndAsTheEngineSays(t *testing.T) {
	t.Parallel()
	pool, consult := scene(t)
	svc := billing.NewService(pool, time.Now)
	oct := month(2026, 10)

	var wg sync.WaitGroup
	got := make([]*billing.Month, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = svc.Month(ctx, oct)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("request %d: %p (%v), want the one month %p", i, got[i], errs[i], got[0])
		}
	}
	if n := svc.Computations(); n != 1 {
		t.Errorf("%d computations of October for 8 requests, want 1", n)
	}

	check := func(t *testing.T, when string) {
		t.Helper()
		for _, f := range []billing.Filter{{}, {State: "held"}, {State: "payable"}, {Product: "10000-002"}, {Supplier: "99999"}} {
			want, err := billing.Lines(ctx, pool, oct, f)
			if err != nil {
				t.Fatal(err)
			}
			wantSup, wantCCG, wantAll, err := billing.Sums(ctx, pool, oct, f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := svc.Page(ctx, oct, f, 0, 50)
			if err != nil {
				t.Fatal(err)
			}
			if p.Count != len(want) || len(p.Lines) != len(want) || p.All.Total() != wantAll.Total() || p.All.Held != wantAll.Held {
				t.Errorf("%s, %+v: %d lines (%d on the page), total %s; want %d, %s", when, f, p.Count, len(p.Lines), p.All.Total(), len(want), wantAll.Total())
			}
			for i := range min(len(want), len(p.Lines)) {
				if p.Lines[i].InstanceRef != want[i].InstanceRef || p.Lines[i].Amount != want[i].Amount || p.Lines[i].Kind != want[i].Kind ||
					!equalDay(p.Lines[i].ActualM1, want[i].ActualM1) || p.Lines[i].ProductName != want[i].ProductName {
					t.Errorf("%s, %+v: line %d %+v, want %+v", when, f, i, p.Lines[i], want[i])
				}
			}
			if !slices.Equal(p.BySupplier, wantSup) || !slices.Equal(p.ByCCG, wantCCG) {
				t.Errorf("%s, %+v: by supplier %+v by CCG %+v; want %+v, %+v", when, f, p.BySupplier, p.ByCCG, wantSup, wantCCG)
			}
			// A page past the first line.
			if p2, err := svc.Page(ctx, oct, f, 1, 1); err != nil || (len(want) > 1 && (len(p2.Lines) != 1 || p2.Lines[0].InstanceRef != want[1].InstanceRef)) {
				t.Errorf("%s, %+v: the second page %+v (%v)", when, f, p2.Lines, err)
			}
		}
		m, err := svc.Month(ctx, oct)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, c := range m.Choices.Products {
			labels = append(labels, c.Value)
		}
		if !slices.Equal(labels, []string{"10000-002", "10000-001"}) && !slices.Equal(labels, []string{"10000-001", "10000-002"}) {
			t.Errorf("%s: product choices %q", when, labels)
		}
		// The export's lines, twice (a closed month's the second time
		// from memory), as the engine reads them.
		all, err := billing.Lines(ctx, pool, oct, billing.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			var got []billing.Line
			if err := svc.EachLine(ctx, m, func(l billing.Line) error { got = append(got, l); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(all) {
				t.Fatalf("%s: %d lines exported, want %d", when, len(got), len(all))
			}
			for i := range got {
				if got[i].InstanceRef != all[i].InstanceRef || got[i].Amount != all[i].Amount || got[i].Price != all[i].Price ||
					got[i].Payable != all[i].Payable || !equalDay(got[i].M2, all[i].M2) || got[i].Source != all[i].Source {
					t.Errorf("%s: exported line %d %+v, want %+v", when, i, got[i], all[i])
				}
			}
		}
		lines, err := svc.InstanceLines(ctx, oct, consult)
		if err != nil || len(lines) != 1 || lines[0].Amount != pounds(t, "24.46") {
			t.Errorf("%s: the consultation's lines %+v (%v)", when, lines, err)
		}
	}
	t.Run("open", func(t *testing.T) { check(t, "open") })
	n, err := closeMonth(pool, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), oct)
	if err != nil {
		t.Fatal(err)
	}
	m, err := svc.Month(ctx, oct)
	if err != nil || !m.Closed || m.Count != n {
		t.Fatalf("October closed: %+v (%v), want closed with %d lines", m, err, n)
	}
	t.Run("closed", func(t *testing.T) { check(t, "closed") })

	// The chart: each month's supplier total as the engine adds it up.
	months := []time.Time{month(2026, 9), oct, month(2026, 11)}
	chart, err := svc.Chart(ctx, months)
	if err != nil {
		t.Fatal(err)
	}
	if len(chart) != 1 {
		t.Fatalf("chart %+v, want one supplier", chart)
	}
	var want []money.Amount
	for _, m := range months {
		_, _, all, err := billing.Sums(ctx, pool, m, billing.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, all.Total())
	}
	if !slices.Equal(chart[0].Months, want) {
		t.Errorf("chart %v, want %v", chart[0].Months, want)
	}
	before := svc.Computations()
	if _, err := svc.Chart(ctx, months); err != nil || svc.Computations() != before {
		t.Errorf("the chart was computed again with nothing changed (%v)", err)
	}
}

func equalDay(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}
