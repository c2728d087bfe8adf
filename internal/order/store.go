package order

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store carries out the order package's commands: it is the one writer of
// orders, order_items and order_recipients (creating, editing, completing,
// amending and terminating call-off orders), each command in its own
// transaction with its audit record.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore is the store of orders in pool, taking the time from now.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store { return &Store{pool: pool, now: now} }
