package order_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"sync"
	"testing"
	gotime "time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/money"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
)

func fieldsOf(err error) map[string]string {
	var e *apperr.Error
	if ae, ok := err.(*apperr.Error); ok {
		e = ae
	}
	if e == nil {
		return nil
	}
	return e.Fields
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		name  string
		edit  func(*order.Details)
		field string
	}{
		{"ErrDescriptionMissing", func(d *order.Details) { d.Description = "  " }, order.FieldDescription},
		{"ErrCommencementTooOld", func(d *order.Details) { d.Commencement = dates.Date(2026, 8, 23) }, order.FieldCommencement},
		{"ErrInitialPeriodZero", func(d *order.Details) { d.InitialPeriod = 0 }, order.FieldInitialPeriod},
		{"ErrMaximumTermOver36", func(d *order.Details) { d.MaximumTerm = 37 }, order.FieldMaximumTerm},
		{"ErrMaximumTermNotLongerThanInitial", func(d *order.Details) { d.InitialPeriod, d.MaximumTerm = 12, 12 }, order.FieldMaximumTerm},
		{"ErrSupplierUnknown", func(d *order.Details) { d.SupplierID = "99999" }, order.FieldSupplier},
		{"ErrCCGOutsideScope", func(d *order.Details) { d.CCGCode = "03Q" }, order.FieldCCG},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := details()
			c.edit(&d)
			_, err := f.Orders.Create(ctx, f.actor, d)
			if !apperr.Is(err, apperr.Invalid) || fieldsOf(err)[c.field] == "" {
				t.Errorf("%s: err = %v, want an Invalid error on %s", c.name, err, c.field)
			}
		})
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("refused orders stored: %d", n)
	}

	// Exactly three months ago is still allowed.
	d := details()
	d.Commencement = dates.Date(2026, 8, 24)
	o := f.create(d)
	if o.CallOffID() != "C010001-01" || o.Status != order.InProgress {
		t.Errorf("first order: %s %s", o.CallOffID(), o.Status)
	}
	if got := o.EndDate(); !got.Equal(dates.Date(2029, 8, 23)) {
		t.Errorf("end date = %s, want 23 August 2029 (commencement + 36 months - 1 day)", dates.Long(got))
	}
	if o2 := f.create(details()); o2.CallOffID() != "C010002-01" {
		t.Errorf("second order: %s", o2.CallOffID())
	}
}

func TestPriceIsSnapshottedWhenAdded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	o = f.addItem(o.CallOffID(), "10000-001")
	if _, err := f.pool.Exec(ctx, `UPDATE catalogue_prices SET price = 9.99 WHERE item_id = '10000-001'`); err != nil {
		t.Fatal(err)
	}
	it := f.item(f.get(o.CallOffID()), "10000-001")
	if it.UnitPrice.String() != "£1.26" || it.Per() != "per patient per year" {
		t.Errorf("item price after a catalogue change: %s %s", it.UnitPrice, it.Per())
	}
}

func TestAddItemRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	id := o.CallOffID()
	cases := []struct {
		name string
		item string
	}{
		{"ErrItemMissing", ""},
		{"ErrItemUnknown", "99999-999"},
		{"ErrItemNotSuppliers", "10052-002"},
		{"ErrAdditionalWithoutSolution", "10000-001A001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.Orders.AddItem(ctx, f.actor, id, f.get(id).Version, c.item)
			if !apperr.Is(err, apperr.Invalid) || fieldsOf(err)[order.FieldItem] == "" {
				t.Errorf("%s: %v", c.name, err)
			}
		})
	}
	f.addItem(id, "10000-001")
	f.addItem(id, "10000-001A001") // now its solution is there
	if _, err := f.Orders.AddItem(ctx, f.actor, id, f.get(id).Version, "10000-001"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrItemTwice: %v", err)
	}
	// A solution with its additional service still on the order stays.
	o = f.get(id)
	if err := f.Orders.RemoveItem(ctx, f.actor, id, o.Version, f.item(o, "10000-001").ID); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrSolutionHasAdditional: %v", err)
	}
}

func TestRecipientRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	id := o.CallOffID()
	f.addItem(id, "10000-001")
	var other string
	if err := f.pool.QueryRow(ctx, `SELECT code FROM practices WHERE ccg_code = '03Q' LIMIT 1`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		in    []order.RecipientInput
		field string
	}{
		{"ErrRecipientNotInCCG", []order.RecipientInput{{Practice: other}}, order.FieldPractices},
		{"ErrRecipientUnknown", []order.RecipientInput{{Practice: "Z99999"}}, order.FieldPractices},
		{"ErrRecipientTwice", []order.RecipientInput{{Practice: "A81001"}, {Practice: "a81001"}}, order.FieldPractices},
		{"ErrQuantityNotPositive", []order.RecipientInput{{Practice: "A81001", Quantity: qty(-3)}}, order.FieldQuantity("A81001")},
		{"ErrQuantityZero", []order.RecipientInput{{Practice: "A81001", Quantity: qty(0)}}, order.FieldQuantity("A81001")},
		{"ErrDeliveryBeforeCommencement", []order.RecipientInput{at("A81001", 2026, 11, 30)}, order.FieldDelivery("A81001")},
		{"ErrDeliveryAfterEnd", []order.RecipientInput{at("A81001", 2029, 12, 1)}, order.FieldDelivery("A81001")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A good recipient beside the bad one: nothing may be saved.
			in := append([]order.RecipientInput{at("A81002", 2027, 1, 1)}, c.in...)
			err := f.recipients(id, "10000-001", in...)
			if !apperr.Is(err, apperr.Invalid) || fieldsOf(err)[c.field] == "" {
				t.Errorf("%s: err = %v, want an error on %s", c.name, err, c.field)
			}
			if n := len(f.item(f.get(id), "10000-001").Recipients); n != 0 {
				t.Errorf("%s: %d recipients saved half-way", c.name, n)
			}
		})
	}

	// Per-patient quantities default to the list size; the last day of the term is allowed.
	if err := f.recipients(id, "10000-001", at("A81001", 2029, 11, 30), order.RecipientInput{Practice: "A81002", Quantity: qty(5903)}); err != nil {
		t.Fatal(err)
	}
	got := f.item(f.get(id), "10000-001").Recipients
	if len(got) != 2 || got[1].PracticeCode != "A81001" || got[1].Quantity != 4100 || got[0].Quantity != 5903 || got[0].PlannedDelivery != nil {
		t.Errorf("recipients: %+v", got)
	}
}

func TestCostArithmetic(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	id := o.CallOffID()
	f.addItem(id, "10000-001")     // £1.26 per patient per year
	f.addItem(id, "10000-001A003") // Automated Arrivals, £35.51 per licence per month
	f.addItem(id, "10000-S-002")   // Installation, £1,000 one-off
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// 4,100 + 18,917 + 11,011 = 34,028 patients.
	must(f.recipients(id, "10000-001", at("A81001", 2027, 1, 4), at("A81002", 2027, 1, 4), at("A81004", 2027, 1, 4)))
	must(f.recipients(id, "10000-001A003", at("A81001", 2027, 1, 4), at("A81002", 2027, 1, 4)))
	must(f.recipients(id, "10000-S-002", at("A81001", 2027, 1, 4), at("A81002", 2027, 1, 4)))

	o = f.get(id)
	lines, total := order.OrderCost(o)
	want := map[string]order.Cost{
		// 34,028 × £1.26 = £42,875.28 a year; ÷ 12 = £3,572.94 a month; × 36 ÷ 12 = £128,625.84.
		"10000-001": {Annual: pounds(t, "42875.28"), Monthly: pounds(t, "3572.94"), Total: pounds(t, "128625.84")},
		// 2 × £35.51 = £71.02 a month; × 12 = £852.24; × 36 = £2,556.72.
		"10000-001A003": {Monthly: pounds(t, "71.02"), Annual: pounds(t, "852.24"), Total: pounds(t, "2556.72")},
		// 2 × £1,000 once.
		"10000-S-002": {OneOff: pounds(t, "2000"), Total: pounds(t, "2000")},
	}
	for i, it := range o.Items {
		if lines[i] != want[it.CatalogueItemID] {
			t.Errorf("%s: cost %+v, want %+v", it.CatalogueItemID, lines[i], want[it.CatalogueItemID])
		}
	}
	if total.OneOff != pounds(t, "2000") || total.Monthly != pounds(t, "3643.96") || total.Annual != pounds(t, "43727.52") || total.Total != pounds(t, "133182.56") {
		t.Errorf("order total %+v", total)
	}

	// Half a penny rounds away from zero: 5,903 × £1.26 = £7,437.78 a year, ÷ 12 = £619.815 → £619.82.
	single := order.Item{UnitPrice: pounds(t, "1.26"), TimeUnit: "year", Recipients: []order.Recipient{{Quantity: 5903}}}
	if c := order.ItemCost(single, 36); c.Monthly != pounds(t, "619.82") || c.Total != pounds(t, "22313.34") {
		t.Errorf("per patient per year: %+v", c)
	}
}

func pounds(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestCompleteCreatesPlannedServiceInstances(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	id := o.CallOffID()
	f.addItem(id, "10000-001")

	// Incomplete sections are named.
	err := f.Orders.Complete(ctx, f.actor, id, f.get(id).Version)
	if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.MessageOf(err), "funded") || !strings.Contains(apperr.MessageOf(err), "practices") {
		t.Errorf("ErrIncomplete: %v", err)
	}
	o = f.readyOrder()
	if err := f.Orders.Complete(ctx, f.actor, o.CallOffID(), o.Version); err != nil {
		t.Fatal(err)
	}
	done := f.get(o.CallOffID())
	if done.Status != order.Completed || done.CompletedBy != "Bea Buyer" || done.CompletedAt == nil {
		t.Errorf("completed order: %s by %q at %v", done.Status, done.CompletedBy, done.CompletedAt)
	}
	res, err := ledger.List(ctx, f.pool, f.scope, "16C", ledger.Filter{OrderID: &done.ID}, paging.Page{Number: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 {
		t.Fatalf("%d service instances, want 3", res.Total)
	}
	for _, si := range res.Rows {
		if si.State != ledger.Planned || si.PlannedM1 == nil || si.QuantityRule != ledger.QuantityListSize || si.CallOffID != done.CallOffID() || si.UnitPrice.String() != "£1.26" {
			t.Errorf("instance %s: %+v", si.Ref(), si)
		}
	}

	// Completed is read-only.
	_, err = f.Orders.AddItem(ctx, f.actor, done.CallOffID(), done.Version, "10000-001A001")
	if !apperr.Is(err, apperr.Conflict) {
		t.Errorf("adding to a completed order: %v", err)
	}
	// The whole change was audited.
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE entity_id = $1 AND action = 'order.complete'`, done.CallOffID()).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit entries: %d", n)
	}
}

func TestStaleVersionIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	stale := o.Version
	f.addItem(o.CallOffID(), "10000-001")
	_, err := f.Orders.AddItem(ctx, f.actor, o.CallOffID(), stale, "10000-S-002")
	if !apperr.Is(err, apperr.Conflict) || !strings.Contains(apperr.MessageOf(err), "changed by someone else") {
		t.Errorf("stale version: %v", err)
	}
	if n := len(f.get(o.CallOffID()).Items); n != 1 {
		t.Errorf("%d items after a refused change, want 1", n)
	}
}

// Two people press "Complete" at once: exactly one succeeds, and the
// services are created once.
func TestConcurrentCompletionsOneWins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.readyOrder()
	const racers = 4
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.Orders.Complete(ctx, f.actor, o.CallOffID(), o.Version)
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !apperr.Is(err, apperr.Conflict):
			t.Errorf("loser got %v, want a conflict", err)
		}
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM service_instances`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if wins != 1 || n != 3 {
		t.Errorf("%d completions succeeded and %d instances exist; want 1 and 3", wins, n)
	}
}

func TestAmendmentAddsOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.readyOrder()
	if err := f.Orders.Complete(ctx, f.actor, o.CallOffID(), o.Version); err != nil {
		t.Fatal(err)
	}
	done := f.get(o.CallOffID())
	next, err := f.Orders.Amend(ctx, f.actor, done.CallOffID(), done.Version)
	if err != nil || next != "C010001-02" {
		t.Fatalf("amend: %q %v", next, err)
	}
	// A second amendment while one is in progress is refused.
	if _, err := f.Orders.Amend(ctx, f.actor, done.CallOffID(), f.get(done.CallOffID()).Version); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("second amendment: %v", err)
	}
	am := f.get(next)
	if am.Status != order.InProgress || len(am.Items) != 1 || len(am.Items[0].Recipients) != 3 {
		t.Fatalf("amendment copy: %+v", am)
	}
	// Only Additional Services may be added, and earlier recipients stay.
	if _, err := f.Orders.AddItem(ctx, f.actor, next, am.Version, "10000-S-002"); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrAmendmentAddsSolutionOrAssociated: %v", err)
	}
	if err := f.recipients(next, "10000-001", at("A81001", 2027, 3, 1)); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrRecipientFromEarlierRevision: %v", err)
	}
	if err := f.Orders.UpdateDetails(ctx, f.actor, next, f.get(next).Version, details()); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrAmendmentChangesDetails: %v", err)
	}
	am = f.get(next)
	if err := f.Orders.RemoveItem(ctx, f.actor, next, am.Version, am.Items[0].ID); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("ErrAmendmentRemovesEarlierItem: %v", err)
	}
	if err := f.recipients(next, "10000-001", at("A81005", 2027, 3, 1)); err != nil {
		t.Fatal(err)
	}
	f.addItem(next, "10000-001A001")
	f.fund(next, "10000-001A001")
	if err := f.recipients(next, "10000-001A001", at("A81001", 2027, 3, 1)); err != nil {
		t.Fatal(err)
	}
	if err := f.Orders.Complete(ctx, f.actor, next, f.get(next).Version); err != nil {
		t.Fatal(err)
	}
	if st := f.get(done.CallOffID()).Status; st != order.Superseded {
		t.Errorf("revision 01 is %s, want superseded", st)
	}
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM service_instances`).Scan(&n); err != nil || n != 5 {
		t.Errorf("%d service instances after the amendment, want 3 + 2", n)
	}
	revs, err := order.Revisions(ctx, f.pool, f.scope, 10001)
	if err != nil || len(revs) != 2 || revs[0].RecipientsAdded != 3 || revs[1].RecipientsAdded != 2 ||
		len(revs[1].ItemsAdded) != 1 || revs[1].ItemsAdded[0] != "Long Term Conditions Manager" {
		t.Errorf("revisions: %+v %v", revs, err)
	}
}

func TestTerminationSetsCessationDates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.readyOrder()
	if err := f.Orders.Complete(ctx, f.actor, o.CallOffID(), o.Version); err != nil {
		t.Fatal(err)
	}
	o = f.get(o.CallOffID())
	cases := []struct {
		name   string
		reason string
		date   func() (y int, m int, d int)
		field  string
	}{
		{"ErrReasonMissing", "", func() (int, int, int) { return 2027, 6, 1 }, order.FieldReason},
		{"ErrTerminationNotInFuture", "Practice merger", func() (int, int, int) { return 2026, 11, 24 }, order.FieldTerminationDate},
		{"ErrTerminationAfterEnd", "Practice merger", func() (int, int, int) { return 2029, 12, 1 }, order.FieldTerminationDate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y, m, d := c.date()
			err := f.Orders.Terminate(ctx, f.actor, o.CallOffID(), o.Version, c.reason, dates.Date(y, gotime.Month(m), d))
			if !apperr.Is(err, apperr.Invalid) || fieldsOf(err)[c.field] == "" {
				t.Errorf("%s: %v", c.name, err)
			}
		})
	}
	end := dates.Date(2027, 6, 1)
	if err := f.Orders.Terminate(ctx, f.actor, o.CallOffID(), o.Version, "Practices merged", end); err != nil {
		t.Fatal(err)
	}
	got := f.get(o.CallOffID())
	if got.Status != order.Terminated || got.TerminationReason != "Practices merged" {
		t.Errorf("terminated: %+v", got)
	}
	var withDate int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM service_instances WHERE cessation_date = '2027-06-01' AND state = 'planned'`).Scan(&withDate); err != nil || withDate != 3 {
		t.Errorf("%d instances with the cessation date, want 3", withDate)
	}
}

func TestBuyerCannotReadAnotherCCGsOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	for _, scope := range []org.Scope{org.OnlyCCG("03Q"), {}} {
		if _, err := order.Get(ctx, f.pool, scope, o.CallOffID()); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("Get in scope %+v: %v", scope, err)
		}
		if _, err := f.Orders.AddItem(ctx, f.As(scope), o.CallOffID(), o.Version, "10000-001"); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("AddItem in scope %+v: %v", scope, err)
		}
		res, err := order.List(ctx, f.pool, scope, order.Filter{}, paging.Page{Number: 1, Size: 10})
		if err != nil || res.Total != 0 {
			t.Errorf("List in scope %+v: %d (%v)", scope, res.Total, err)
		}
	}
	res, err := order.List(ctx, f.pool, org.AllCCGs(), order.Filter{Query: "stockton"}, paging.Page{Number: 1, Size: 10})
	if err != nil || res.Total != 1 {
		t.Errorf("reviewer's search: %d (%v)", res.Total, err)
	}
}

func TestOrderCSVInFinanceLayout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.readyOrder()
	if _, err := f.pool.Exec(ctx, `UPDATE practices SET name = '=HYPERLINK("http://evil")' WHERE code = 'A81001'`); err != nil {
		t.Fatal(err)
	}
	o = f.get(o.CallOffID())
	var buf bytes.Buffer
	if err := order.WriteCSV(&buf, o); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "Call-off ID" {
		t.Fatalf("%d rows: %v", len(rows), rows)
	}
	var sawEscaped bool
	for _, r := range rows[1:] {
		if r[0] != "C010001-01" || r[7] != "10000-001" || r[13] != "1.2600" || r[11] != "year" {
			t.Errorf("row %v", r)
		}
		if r[3] == "A81001" {
			sawEscaped = r[4] == `'=HYPERLINK("http://evil")`
		}
	}
	if !sawEscaped {
		t.Error("a practice name that looks like a formula was not escaped")
	}
}

func TestParseRecipientCSV(t *testing.T) {
	t.Parallel()
	codes, problems := order.ParseRecipientCSV(strings.NewReader("ODS code\nA81001\n a81002 \n\nnot-a-code\n"))
	if len(codes) != 2 || codes[1] != "A81002" || len(problems) != 1 || !strings.Contains(problems[0], "Row 5") {
		t.Errorf("codes %v problems %v", codes, problems)
	}
	if _, problems := order.ParseRecipientCSV(strings.NewReader("")); len(problems) != 1 {
		t.Errorf("empty file: %v", problems)
	}
	f := newFixture(t)
	ok, problems, err := order.CheckPractices(ctx, f.pool, "16C", []string{"A81001", "Z99999", "A81001"})
	if err != nil || len(ok) != 1 || len(problems) != 1 || !strings.Contains(problems[0], "Z99999") {
		t.Errorf("check: %v %v %v", ok, problems, err)
	}
}

// A termination while an amendment is open, in either order: the
// terminated order never comes back to life.
func TestTerminationAndAmendmentDoNotOverlap(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.readyOrder()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.Orders.Complete(ctx, f.actor, o.CallOffID(), o.Version))
	o = f.get(o.CallOffID())
	next, err := f.Orders.Amend(ctx, f.actor, o.CallOffID(), o.Version)
	must(err)
	o = f.get(o.CallOffID())
	if err := f.Orders.Terminate(ctx, f.actor, o.CallOffID(), o.Version, "Merged", dates.Date(2027, 6, 1)); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ErrTerminateWhileAmending: %v", err)
	}
	// Had it been terminated by hand, completing the amendment is refused.
	if _, err := f.pool.Exec(ctx, `UPDATE orders SET status = 'terminated', termination_date = '2027-06-01', termination_reason = 'x' WHERE revision = 1`); err != nil {
		t.Fatal(err)
	}
	must(f.recipients(next, "10000-001", at("A81005", 2027, 3, 1)))
	if err := f.Orders.Complete(ctx, f.actor, next, f.get(next).Version); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("ErrCompleteAmendmentOfTerminated: %v", err)
	}
}

func TestOrderablesCarryTheirPrices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	o := f.create(details())
	items, err := order.Orderables(ctx, f.pool, o)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]order.Orderable{}
	for _, it := range items {
		if it.SupplierID != "10000" {
			t.Errorf("%s of supplier %s offered on an EMIS order", it.ID, it.SupplierID)
		}
		byID[it.ID] = it
	}
	if emis, ok := byID["10000-001"]; !ok || emis.Price.Price.String() != "£1.26" || emis.Price.Per() != "per patient per year" {
		t.Errorf("Emis Web GP offered as %+v (found %v)", emis, ok)
	}
	if inst, ok := byID["10000-S-002"]; !ok || inst.Price.Per() != "per installation, one-off" {
		t.Errorf("Installation offered as %+v (found %v)", inst, ok)
	}
	// Once Emis Web GP is on the order it is not offered again.
	o = f.addItem(o.CallOffID(), "10000-001")
	items, err = order.Orderables(ctx, f.pool, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == "10000-001" {
			t.Error("an item on the order is offered again")
		}
	}
}
