package ledger_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/money"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

// newOrder inserts a bare order revision for instances to come from: the
// order package's rules are not what these tests are about.
func newOrder(t *testing.T, pool *pgxpool.Pool, number, revision int, ccg, supplier string) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `
		INSERT INTO orders (order_number, revision, ccg_code, supplier_id, description, commencement_date,
			initial_period_months, maximum_term_months, created_at)
		VALUES ($1, $2, $3, $4, 'Test order', '2026-12-01', 12, 36, $5) RETURNING id`,
		number, revision, ccg, supplier, now).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// create makes instances by actor (nil: the system) in their own
// transaction, as an order's completion would in its own.
func create(t *testing.T, pool *pgxpool.Pool, actor *int64, change string, ins ...ledger.NewInstance) []int64 {
	t.Helper()
	return testkit.Services(t, pool, now, org.Actor{ID: actor, Scope: org.AllCCGs()}, change, ins...)
}

func planned(ccg, practice, item, supplier string, orderID int64, m1 time.Time) ledger.NewInstance {
	return ledger.NewInstance{
		CCGCode: ccg, PracticeCode: practice, ItemID: item, SupplierID: supplier, OrderID: &orderID,
		UnitPrice: money.Amount(12600), PricingUnit: "patient", TimeUnit: "year",
		QuantityRule: ledger.QuantityListSize, Quantity: 4100, PlannedM1: &m1, State: ledger.Planned,
	}
}

func TestCreateAndGet(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	actor := newUser(t, pool, "rita@example.nhs.uk", "reviewer")
	order := newOrder(t, pool, 10001, 1, "16C", "10000")
	m1 := day("2027-01-01")

	oneOff := planned("16C", practice16C, "10000-S-003", "10000", order, m1)
	oneOff.TimeUnit, oneOff.QuantityRule, oneOff.Quantity, oneOff.UnitPrice = "", ledger.QuantityFixed, 2, money.Amount(6500000)
	ids := create(t, pool, &actor, "order C010001-01 completed", planned("16C", practice16C, emisWeb, "10000", order, m1), oneOff)
	if len(ids) != 2 {
		t.Fatalf("ids = %v", ids)
	}

	inst, hist, err := ledger.Get(ctx, pool, org.OnlyCCG("16C"), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if inst.Ref() != "SI"+itoa(ids[0])+"-A81001" || inst.PracticeName == "" || inst.ItemName != "Emis Web GP" || inst.ItemKind != org.KindSolution ||
		inst.SupplierName != "EMIS Health" || inst.CallOffID != "C010001-01" || inst.Source() != "C010001-01" || inst.AgreementID != nil ||
		inst.UnitPrice.String() != "£1.26" || inst.TimeUnit != "year" || inst.State != ledger.Planned || date(inst.PlannedM1) != "2027-01-01" ||
		inst.ActualM1 != nil || inst.Version != 1 {
		t.Errorf("instance = %+v", inst)
	}
	if len(hist) != 1 || hist[0].Actor != "User rita@example.nhs.uk" || hist[0].Change != "order C010001-01 completed" ||
		string(hist[0].Before) != "null" || !hist[0].At.Equal(now) {
		t.Fatalf("history = %+v", hist)
	}
	jsonEqual(t, "after", hist[0].After, map[string]any{"state": "planned", "planned_m1": "2027-01-01", "quantity": 4100})

	// A one-off price has no time unit.
	if inst, _, err := ledger.Get(ctx, pool, org.AllCCGs(), ids[1]); err != nil || inst.TimeUnit != "" || inst.Quantity != 2 || inst.UnitPrice.String() != "£650.00" {
		t.Errorf("one-off instance = %+v, %v", inst, err)
	}
	// Outside the scope, or no such instance: NotFound.
	for name, c := range map[string]struct {
		scope org.Scope
		id    int64
	}{"ErrBuyerOfAnotherCCG": {org.OnlyCCG("03Q"), ids[0]}, "ErrNoSuchInstance": {org.AllCCGs(), 999999}, "ErrNoScope": {org.Scope{}, ids[0]}} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := ledger.Get(ctx, pool, c.scope, c.id); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s: error %v, want NotFound", name, err)
			}
		})
	}

	// The system (no actor) is named as such.
	sys := create(t, pool, nil, "system change", planned("16C", practice16C2, emisWeb, "10000", order, m1))
	if _, hist, err := ledger.Get(ctx, pool, org.AllCCGs(), sys[0]); err != nil || len(hist) != 1 || hist[0].Actor != "System" {
		t.Errorf("system history = %+v, %v", hist, err)
	}
}

func TestChange(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	actor := newUser(t, pool, "rita@example.nhs.uk", "reviewer")
	order := newOrder(t, pool, 10001, 1, "16C", "10000")
	id := create(t, pool, &actor, "created", planned("16C", practice16C, emisWeb, "10000", order, day("2027-01-01")))[0]

	change := func(what string, fn func(*ledger.Instance) error) (ledger.Instance, error) {
		var inst ledger.Instance
		err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
			var err error
			inst, err = ledger.ChangeTx(ctx, tx, now.Add(time.Hour), org.UserActor(actor, org.AllCCGs()), id, what, nil, fn)
			return err
		})
		return inst, err
	}

	inst, err := change("go-live", func(i *ledger.Instance) error {
		m1 := day("2027-01-15")
		i.ActualM1, i.State = &m1, ledger.Active
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if inst.State != ledger.Active || date(inst.ActualM1) != "2027-01-15" || inst.Version != 2 {
		t.Errorf("changed instance = %+v", inst)
	}
	_, hist, err := ledger.Get(ctx, pool, org.AllCCGs(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Change != "go-live" || !hist[1].At.Equal(now.Add(time.Hour)) {
		t.Fatalf("history = %+v", hist)
	}
	jsonEqual(t, "before", hist[1].Before, map[string]any{"state": "planned", "planned_m1": "2027-01-01", "quantity": 4100})
	jsonEqual(t, "after", hist[1].After, map[string]any{"state": "active", "planned_m1": "2027-01-01", "actual_m1": "2027-01-15", "quantity": 4100})

	// A change that changes nothing writes nothing.
	if _, err := change("nothing", func(*ledger.Instance) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// A refusal writes nothing either, and its error comes back.
	refused := ledger.ErrStateRefused(inst, "be planned again")
	if _, err := change("refused", func(i *ledger.Instance) error {
		i.State = ledger.Planned
		return refused
	}); err != refused || apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("refusal error %v", err)
	}
	if want := "SI" + itoa(id) + "-A81001 is active, so it cannot be planned again."; apperr.MessageOf(refused) != want {
		t.Errorf("ErrStateRefused = %q, want %q", apperr.MessageOf(refused), want)
	}
	inst, hist, err = ledger.Get(ctx, pool, org.AllCCGs(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || inst.Version != 2 || inst.State != ledger.Active {
		t.Errorf("after a no-op and a refusal: %d history entries, version %d, state %s", len(hist), inst.Version, inst.State)
	}
	// Changing an instance that does not exist is NotFound.
	err = postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.ChangeTx(ctx, tx, now, org.UserActor(actor, org.AllCCGs()), 999999, "x", nil, func(*ledger.Instance) error { return nil })
		return err
	})
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("change of a missing instance: %v, want NotFound", err)
	}
}

// listScene is the ledger the list tests read: three planned services in
// 16C from two orders (two practices, two items), one in 03Q, and a
// continuity service of A81004 (16C). It returns the two 16C orders' ids.
func listScene(t *testing.T, pool *pgxpool.Pool) (first, second int64) {
	t.Helper()
	first = newOrder(t, pool, 10001, 1, "16C", "10000")
	second = newOrder(t, pool, 10002, 1, "16C", "10000")
	m1 := day("2027-01-01")
	create(t, pool, nil, "c", planned("16C", practice16C, emisWeb, "10000", first, m1), planned("16C", practice16C2, emisWeb, "10000", first, m1),
		planned("16C", practice16C, emisArrivals, "10000", second, m1), planned("03Q", practice03Q, emisWeb, "10000", newOrder(t, pool, 10003, 1, "03Q", "10000"), m1))
	mustImport(t, pool, "practice,supplier,item,start_date\nA81004,10052,10052-002,2020-01-01\n")
	return first, second
}

func TestList(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	first, second := listScene(t, pool)

	list := func(t *testing.T, scope org.Scope, ccg string, f ledger.Filter, page paging.Page) paging.Result[ledger.Instance] {
		t.Helper()
		res, err := ledger.List(ctx, pool, scope, ccg, f, page)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	refs := func(res paging.Result[ledger.Instance]) []string {
		var out []string
		for _, i := range res.Rows {
			out = append(out, i.PracticeCode+" "+i.ItemID+" "+i.Source())
		}
		return out
	}
	p := paging.Page{Number: 1, Size: 25}
	t.Run("the CCG's", func(t *testing.T) {
		all := list(t, org.AllCCGs(), "16C", ledger.Filter{}, p)
		if all.Total != 4 || len(all.Rows) != 4 {
			t.Fatalf("16C's ledger: %v", refs(all))
		}
		for _, i := range all.Rows {
			if i.CCGCode != "16C" {
				t.Errorf("16C's ledger lists %s of %s", i.Ref(), i.CCGCode)
			}
		}
	})
	t.Run("by practice", func(t *testing.T) {
		if got := refs(list(t, org.OnlyCCG("16C"), "16C", ledger.Filter{Practice: "a81001"}, p)); len(got) != 2 {
			t.Errorf("filter by practice (lower case): %v", got)
		}
	})
	t.Run("by state", func(t *testing.T) {
		if got := refs(list(t, org.AllCCGs(), "16C", ledger.Filter{State: ledger.Active}, p)); len(got) != 1 || got[0] != "A81004 10052-002 Continuity agreement" {
			t.Errorf("filter by state: %v", got)
		}
	})
	t.Run("by order", func(t *testing.T) {
		if got := refs(list(t, org.AllCCGs(), "16C", ledger.Filter{OrderID: &second}, p)); len(got) != 1 || got[0] != "A81001 10000-001A003 C010002-01" {
			t.Errorf("filter by order: %v", got)
		}
	})
	t.Run("ErrBuyerOfAnotherCCG", func(t *testing.T) {
		if res := list(t, org.OnlyCCG("03Q"), "16C", ledger.Filter{}, p); res.Total != 0 || len(res.Rows) != 0 {
			t.Errorf("a 03Q buyer sees 16C's ledger: %v", refs(res))
		}
	})
	t.Run("page 2", func(t *testing.T) {
		page2 := list(t, org.AllCCGs(), "16C", ledger.Filter{}, paging.Page{Number: 2, Size: 3})
		if page2.Total != 4 || len(page2.Rows) != 1 {
			t.Errorf("page 2 of 3: total %d, %d rows", page2.Total, len(page2.Rows))
		}
	})
	t.Run("ForOrders", func(t *testing.T) {
		got, err := ledger.ForOrders(ctx, pool, []int64{first, second})
		if err != nil || len(got) != 3 {
			t.Errorf("ForOrders: %d, %v; want 3", len(got), err)
		}
	})
}

func TestApplyDueCessations(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	order := newOrder(t, pool, 10001, 1, "16C", "10000")
	mustImport(t, pool, "practice,supplier,item,start_date\nA81001,10000,10000-001,2020-01-01\nA81002,10000,10000-001,2020-01-01\n")
	plannedID := create(t, pool, nil, "c", planned("16C", practice16C3, emisWeb, "10000", order, day("2027-01-01")))[0]
	active := instanceOf(t, pool, practice16C, emisWeb).ID
	later := instanceOf(t, pool, practice16C2, emisWeb).ID

	if _, err := pool.Exec(ctx, `UPDATE service_instances SET cessation_date = CASE id WHEN $3 THEN date '2027-06-01' ELSE date '2026-12-31' END
		WHERE id IN ($1, $2, $3)`, plannedID, active, later); err != nil {
		t.Fatal(err)
	}
	apply := func(today string) int {
		t.Helper()
		var n int
		err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
			var err error
			n, err = ledger.ApplyDueCessationsTx(ctx, tx, now, org.System(), day(today))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := apply("2026-12-30"); n != 0 {
		t.Errorf("before any is due: %d", n)
	}
	if n := apply("2026-12-31"); n != 2 {
		t.Errorf("on the day: %d, want 2", n)
	}
	if n := apply("2026-12-31"); n != 0 {
		t.Errorf("again on the same day: %d, want 0", n)
	}
	states := map[int64]string{}
	rows, _ := pool.Query(ctx, `SELECT id, state FROM service_instances WHERE id IN ($1, $2, $3)`, plannedID, active, later)
	var id int64
	var state string
	if _, err := pgx.ForEachRow(rows, []any{&id, &state}, func() error { states[id] = state; return nil }); err != nil {
		t.Fatal(err)
	}
	if states[plannedID] != "cancelled" || states[active] != "ceased" || states[later] != "active" {
		t.Errorf("states: planned→%s, active→%s, later→%s; want cancelled, ceased, active", states[plannedID], states[active], states[later])
	}
	_, hist, err := ledger.Get(ctx, pool, org.AllCCGs(), active)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Change != "cessation date reached" || hist[1].Actor != "System" {
		t.Fatalf("history = %+v", hist)
	}
	var after map[string]any
	if err := json.Unmarshal(hist[1].After, &after); err != nil || after["state"] != "ceased" || after["cessation"] != "2026-12-31" {
		t.Errorf("after = %s", hist[1].After)
	}
}
