package order_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/testkit"
)

var ctx = context.Background()

// fixture is testkit's database, where Bea Buyer builds an order on a
// clock standing at testkit.OrderDay.
type fixture struct {
	t *testing.T
	testkit.Buying
	pool  *pgxpool.Pool
	actor org.Actor
	scope org.Scope
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	b := testkit.NewBuying(t)
	return &fixture{t: t, Buying: b, pool: b.Pool, actor: b.Actor, scope: b.Actor.Scope}
}

// details is a valid order of EMIS Health for 16C starting 1 December 2026.
func details() order.Details { return testkit.OrderDetails() }

func (f *fixture) create(d order.Details) order.Order {
	f.t.Helper()
	o, err := f.Orders.Create(ctx, f.actor, d)
	if err != nil {
		f.t.Fatalf("create order: %v", err)
	}
	return o
}

func (f *fixture) get(callOff string) order.Order {
	f.t.Helper()
	o, err := order.Get(ctx, f.pool, f.scope, callOff)
	if err != nil {
		f.t.Fatalf("get %s: %v", callOff, err)
	}
	return o
}

func (f *fixture) addItem(callOff, itemID string) order.Order {
	f.t.Helper()
	o := f.get(callOff)
	if _, err := f.Orders.AddItem(ctx, f.actor, callOff, o.Version, itemID); err != nil {
		f.t.Fatalf("add %s: %v", itemID, err)
	}
	return f.get(callOff)
}

func (f *fixture) item(o order.Order, catalogueID string) order.Item {
	f.t.Helper()
	for _, it := range o.Items {
		if it.CatalogueItemID == catalogueID {
			return it
		}
	}
	f.t.Fatalf("%s is not on %s", catalogueID, o.CallOffID())
	return order.Item{}
}

func (f *fixture) fund(callOff, catalogueID string) {
	f.t.Helper()
	o := f.get(callOff)
	if err := f.Orders.SetFunding(ctx, f.actor, callOff, o.Version, f.item(o, catalogueID).ID, 1); err != nil {
		f.t.Fatalf("fund %s: %v", catalogueID, err)
	}
}

func (f *fixture) recipients(callOff, catalogueID string, in ...order.RecipientInput) error {
	o := f.get(callOff)
	return f.Orders.SaveRecipients(ctx, f.actor, callOff, o.Version, f.item(o, catalogueID).ID, in)
}

func at(practice string, y int, m time.Month, d int) order.RecipientInput {
	t := dates.Date(y, m, d)
	return order.RecipientInput{Practice: practice, PlannedDelivery: &t}
}

func qty(n int) *int { return &n }

// readyOrder is an order of Emis Web GP for three practices of 16C, funded
// and dated: ready to complete.
func (f *fixture) readyOrder() order.Order {
	f.t.Helper()
	o := f.create(details())
	f.addItem(o.CallOffID(), "10000-001")
	f.fund(o.CallOffID(), "10000-001")
	if err := f.recipients(o.CallOffID(), "10000-001",
		at("A81001", 2027, 1, 4), at("A81002", 2027, 1, 4), at("A81004", 2027, 2, 1)); err != nil {
		f.t.Fatal(err)
	}
	return f.get(o.CallOffID())
}
