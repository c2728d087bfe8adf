package testkit

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/procurement"
)

// OrderDay is the moment the order and procurement tests stand on:
// 24 November 2026, 10:00 UTC.
var OrderDay = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// Buying is what the order and procurement tests share: a fresh database
// with Bea Buyer, a buyer of 16C, to act as, and the stores of orders and
// procurements on a clock standing at OrderDay.
type Buying struct {
	Pool         *pgxpool.Pool
	Actor        org.Actor // Bea Buyer, acting on 16C
	Clock        *Clock
	Orders       *order.Store
	Procurements *procurement.Store
}

// NewBuying opens the test's database and its stores.
func NewBuying(t *testing.T) Buying {
	t.Helper()
	pool := pgtest.New(t)
	clock := NewClock(OrderDay)
	return Buying{
		Pool:         pool,
		Actor:        org.UserActor(Buyer(t, pool, "16C"), org.OnlyCCG("16C")),
		Clock:        clock,
		Orders:       order.NewStore(pool, clock.Now),
		Procurements: procurement.NewStore(pool, clock.Now),
	}
}

// As is Bea Buyer acting within another scope (to try another CCG's rows).
func (b Buying) As(scope org.Scope) org.Actor { return org.Actor{ID: b.Actor.ID, Scope: scope} }

// OrderDetails is a valid order of EMIS Health for 16C starting on
// 1 December 2026, 12 months initially and 36 at most.
func OrderDetails() order.Details {
	return order.Details{CCGCode: "16C", SupplierID: "10000", Description: "Emis Web GP for Stockton",
		Commencement: dates.Date(2026, 12, 1), InitialPeriod: 12, MaximumTerm: 36}
}
