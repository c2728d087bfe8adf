package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"ccgtracker/internal/billing"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/money"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

// pageTotal is the "All" total of a month's page: what finance reads.
func pageTotal(t *testing.T, c *client, period string) money.Amount {
	t.Helper()
	resp := c.get("/reconciliation/" + period)
	wantStatus(t, resp, http.StatusOK)
	got := strings.TrimSpace(doc(t, resp).Find(`[data-testid=recon-suppliers] tr[data-row="All"] td`).Last().Text())
	fields := strings.Fields(got) // "Total £1,234.56": a hidden label, then the amount
	if len(fields) == 0 {
		t.Fatalf("%s has no total", period)
	}
	a, err := money.Parse(strings.NewReplacer("£", "", ",", "").Replace(fields[len(fields)-1]))
	if err != nil {
		t.Fatalf("%s's total %q: %v", period, got, err)
	}
	return a
}

// freshTotal is the month computed afresh from the ledger, not cached.
func freshTotal(t *testing.T, app *testApp, first string) money.Amount {
	t.Helper()
	p, _ := tracker.ParsePeriod(first)
	_, _, all, err := billing.Sums(context.Background(), app.pool, p.First(), billing.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return all.Total()
}

// The month's page is served from billing's cache, yet shows the new
// amount after every kind of change to the ledger: each path moves the
// input version in its own transaction, and the page then equals the
// month computed afresh.
func TestReconciliationPageFollowsEveryLedgerChange(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	ctx := context.Background()
	fin := app.client()
	fin.signIn("finance@example.nhs.uk")
	var buyer int64
	if err := app.pool.QueryRow(ctx, `SELECT id FROM users WHERE email = 'buyer.16c@example.nhs.uk'`).Scan(&buyer); err != nil {
		t.Fatal(err)
	}
	scope := org.OnlyCCG("16C")
	nov, oct := "2026-11", "2026-10"
	novP, _ := tracker.ParsePeriod(nov)
	var callOff string

	// step checks the page before and after one change: the version
	// moved, the page equals the fresh computation, and (changes says so)
	// the total moved.
	step := func(name string, changes bool, change func() error) {
		t.Helper()
		before := pageTotal(t, fin, nov)
		// Asked twice: the second is the cache's, and must agree.
		if again := pageTotal(t, fin, nov); again != before {
			t.Fatalf("%s: the cached page says %s, then %s", name, before, again)
		}
		v0, err := app.srv.billing.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := change(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v1, err := app.srv.billing.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v1 <= v0 {
			t.Errorf("%s: the input version stayed at %d", name, v0)
		}
		after, want := pageTotal(t, fin, nov), freshTotal(t, app.testApp, nov)
		if after != want {
			t.Errorf("%s: November's page says %s, the ledger %s (it said %s before)", name, after, want, before)
		}
		if changes && after == before {
			t.Errorf("%s: November's total stayed %s", name, before)
		}
	}

	step("a return's acceptance", true, func() error {
		get := func() int {
			r, err := tracker.Get(ctx, app.pool, scope, "16C", novP)
			if err != nil {
				t.Fatal(err)
			}
			return r.Version
		}
		if err := app.srv.tracker.AddLine(ctx, org.UserActor(buyer, scope), "16C", novP, get(),
			tracker.LineInput{Kind: tracker.Cessation, Practice: app.practice, Instance: app.service, Date: dates.Date(2026, 11, 20), Note: "closed"}); err != nil {
			return err
		}
		// Sent and accepted once November is over; the clock of the
		// later steps stays in November.
		if err := tracker.NewStore(app.pool, testkit.NewClock(novemberOver).Now).Submit(ctx, org.UserActor(buyer, scope), "16C", novP, get(), false); err != nil {
			return err
		}
		_, err := tracker.NewStore(app.pool, testkit.NewClock(novemberOver).Now).Accept(ctx, org.System(), "16C", novP, get())
		return err
	})

	step("an order's completion", false, func() error {
		o, err := app.srv.orders.Create(ctx, org.UserActor(buyer, scope), order.Details{CCGCode: "16C", SupplierID: "10000",
			Description: "Consultations", Commencement: dates.Date(2026, 11, 1), InitialPeriod: 12, MaximumTerm: 36})
		if err != nil {
			return err
		}
		callOff = o.CallOffID()
		if _, err := app.srv.orders.AddItem(ctx, org.UserActor(buyer, scope), callOff, o.Version, "10000-002"); err != nil {
			return err
		}
		if o, err = order.Get(ctx, app.pool, scope, callOff); err != nil {
			return err
		}
		if err := app.srv.orders.SetFunding(ctx, org.UserActor(buyer, scope), callOff, o.Version, o.Items[0].ID, 1); err != nil {
			return err
		}
		if o, err = order.Get(ctx, app.pool, scope, callOff); err != nil {
			return err
		}
		planned := dates.Date(2026, 11, 2)
		if err := app.srv.orders.SaveRecipients(ctx, org.UserActor(buyer, scope), callOff, o.Version, o.Items[0].ID,
			[]order.RecipientInput{{Practice: "A81002", PlannedDelivery: &planned}}); err != nil {
			return err
		}
		if o, err = order.Get(ctx, app.pool, scope, callOff); err != nil {
			return err
		}
		// Completion plans the services: none is live, so no line moves,
		// but the version must (the cache cannot tell what a change did).
		return app.srv.orders.Complete(ctx, org.UserActor(buyer, scope), callOff, o.Version)
	})

	// The order's service goes live on 2 November, as a return would say.
	if _, err := app.pool.Exec(ctx, `UPDATE service_instances SET actual_m1 = '2026-11-02', state = 'active' WHERE order_id IS NOT NULL`); err != nil {
		t.Fatal(err)
	}

	step("an order's termination", true, func() error {
		o, err := order.Get(ctx, app.pool, scope, callOff)
		if err != nil {
			return err
		}
		return app.srv.orders.Terminate(ctx, org.UserActor(buyer, scope), callOff, o.Version, "Practice merged", dates.Date(2026, 11, 28))
	})

	step("a continuity agreement change", true, func() error {
		var agreement int64
		if err := app.pool.QueryRow(ctx, `SELECT agreement_id FROM service_instances WHERE id = $1`, app.id).Scan(&agreement); err != nil {
			return err
		}
		var practice string
		if err := app.pool.QueryRow(ctx, `SELECT practice_code FROM service_instances WHERE agreement_id = $1 AND state = 'active' AND practice_code <> $2
			ORDER BY practice_code LIMIT 1`, agreement, app.practice).Scan(&practice); err != nil {
			return err
		}
		_, err := ledger.NewStore(app.pool, func() time.Time { return app.now }).RecordAgreementCancellation(ctx, org.UserActor(buyer, scope), "16C", agreement,
			ledger.Cancellation{Practice: practice, Date: dates.Date(2026, 11, 10)})
		return err
	})

	step("the nightly cessations", false, func() error {
		day := dates.Date(2026, 11, 28)
		res, err := nightly.NewStore(app.pool, testkit.NewClock(app.now.AddDate(0, 0, 4)).Now).Run(ctx, org.System(), &day)
		if err == nil && res.Ceased == 0 {
			t.Error("the night ceased nothing: the terminated order's service was due")
		}
		return err
	})

	// Closing October freezes it: October reads the same whatever the
	// ledger does after, and a later change to October comes as an
	// adjustment on November's page, which the cache must not miss.
	octBefore := pageTotal(t, fin, oct)
	wantRedirect(t, fin.post("/reconciliation/"+oct+"/close", nil), "/reconciliation/"+oct)
	if got := pageTotal(t, fin, oct); got != octBefore {
		t.Errorf("October closed: %s, was %s open", got, octBefore)
	}
	step("a change to the closed month", true, func() error {
		// A service of October's backdated to have ceased on 15 October.
		_, err := app.pool.Exec(ctx, `UPDATE service_instances SET cessation_date = '2026-10-15' WHERE id = $1`, app.id)
		if err == nil {
			_, err = app.pool.Exec(ctx, `INSERT INTO service_instance_history (instance_id, at, change) VALUES ($1, $2, 'test: backdated cessation')`, app.id, app.now.Add(1))
		}
		return err
	})
	if got := pageTotal(t, fin, oct); got != octBefore {
		t.Errorf("closed October recomputed: %s, was %s when closed", got, octBefore)
	}
	// The closed month's totals, summed in SQL, are its frozen lines' sum.
	var frozen string
	if err := app.pool.QueryRow(ctx, `SELECT sum(amount)::text FROM billing_lines WHERE period = '2026-10-01'`).Scan(&frozen); err != nil {
		t.Fatal(err)
	}
	if f, err := money.Parse(frozen); err != nil || f != octBefore {
		t.Errorf("October's frozen lines add up to %s (%v), its page says %s", frozen, err, octBefore)
	}
}
