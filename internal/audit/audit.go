// Package audit writes the audit log: who changed what, when, with the
// values before and after. Record takes the caller's transaction, so an
// audit entry exists exactly when the change it describes does.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// Entry is one audited change.
type Entry struct {
	ID         int64
	At         time.Time
	ActorID    *int64 // nil for the system (seed, import, jobs)
	ActorEmail string
	Action     string // "user.create", "user.deactivate", ...
	EntityType string // "user", "practice", ...
	EntityID   string
	Before     json.RawMessage
	After      json.RawMessage
}

const insertEntry = `
	INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, before, after)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`

// Record writes one entry in tx. before and after are marshalled to JSON;
// pass nil for a side that does not exist (a creation has no before).
func Record(ctx context.Context, tx pgx.Tx, at time.Time, actorID *int64, action, entityType, entityID string, before, after any) error {
	args, err := entryArgs(at, actorID, action, entityType, entityID, before, after)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, insertEntry, args...); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Queue adds one entry to a batch that the caller sends inside its
// transaction: for changes made in bulk, such as an import.
func Queue(batch *pgx.Batch, at time.Time, actorID *int64, action, entityType, entityID string, before, after any) error {
	args, err := entryArgs(at, actorID, action, entityType, entityID, before, after)
	if err != nil {
		return err
	}
	batch.Queue(insertEntry, args...)
	return nil
}

func entryArgs(at time.Time, actorID *int64, action, entityType, entityID string, before, after any) ([]any, error) {
	b, err := marshal(before)
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", action, err)
	}
	a, err := marshal(after)
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", action, err)
	}
	return []any{at, actorID, action, entityType, entityID, b, a}, nil
}

func marshal(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// ForEntity returns the entries about one thing, newest first.
func ForEntity(ctx context.Context, db postgres.Querier, entityType, entityID string, limit int) ([]Entry, error) {
	return list(ctx, db, `WHERE a.entity_type = $1 AND a.entity_id = $2`, limit, entityType, entityID)
}

// Recent returns the newest entries of the whole log.
func Recent(ctx context.Context, db postgres.Querier, limit int) ([]Entry, error) {
	return list(ctx, db, ``, limit)
}

func list(ctx context.Context, db postgres.Querier, where string, limit int, args ...any) ([]Entry, error) {
	args = append(args, limit)
	rows, err := db.Query(ctx, fmt.Sprintf(`
		SELECT a.id, a.at, a.actor_id, coalesce(u.email, 'system'), a.action, a.entity_type, a.entity_id,
		       coalesce(a.before, 'null'), coalesce(a.after, 'null')
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
		%s ORDER BY a.at DESC, a.id DESC LIMIT $%d`, where, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorEmail, &e.Action, &e.EntityType, &e.EntityID, &e.Before, &e.After)
		return e, err
	})
}
