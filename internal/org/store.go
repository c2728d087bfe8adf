package org

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store carries out org's commands: it owns the reference data of the
// NHS organisations (CCGs and their due days, GP practices as the ODS file
// gives them, practices' list sizes) and the history of the imports that
// change them.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore is the store over pool, taking the time from now.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store { return &Store{pool: pool, now: now} }
