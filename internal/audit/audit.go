// Package audit writes the audit log: who changed what, when, with the
// values before and after. Record takes the caller's transaction, so an
// audit entry exists exactly when the change it describes does.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/paging"
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
	CCGCode    string // the CCG the entity belonged to at the time, or ""
	Before     json.RawMessage
	After      json.RawMessage
}

const insertEntry = `
	INSERT INTO audit_log (at, actor_id, action, entity_type, entity_id, before, after)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`

// Event is one change to record: when, by whom (nil: the system), what
// was done to which entity, and its values before and after, marshalled
// to JSON (nil for a side that does not exist: a creation has no before).
type Event struct {
	At         time.Time
	By         *int64
	Action     string // "user.create", "return.accept", ...
	EntityType string // "user", "return", ...
	EntityID   string
	Before     any
	After      any
}

// Record writes one entry in tx, the transaction of the change itself.
func Record(ctx context.Context, tx pgx.Tx, c Event) error {
	args, err := c.args()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, insertEntry, args...); err != nil {
		return fmt.Errorf("audit %s: %w", c.Action, err)
	}
	return nil
}

// Queue adds one entry to a batch that the caller sends inside its
// transaction: for changes made in bulk, such as an import.
func Queue(batch *pgx.Batch, c Event) error {
	args, err := c.args()
	if err != nil {
		return err
	}
	batch.Queue(insertEntry, args...)
	return nil
}

func (c Event) args() ([]any, error) {
	b, err := marshal(c.Before)
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", c.Action, err)
	}
	a, err := marshal(c.After)
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", c.Action, err)
	}
	return []any{c.At, c.By, c.Action, c.EntityType, c.EntityID, b, a}, nil
}

func marshal(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// ForEntity returns the entries about one thing, newest first.
func ForEntity(ctx context.Context, db postgres.Querier, entityType, entityID string, limit int) ([]Entry, error) {
	res, err := Search(ctx, db, Filter{EntityType: entityType, EntityID: entityID}, paging.Page{Number: 1, Size: limit})
	return res.Rows, err
}

// Filter narrows the log; every field left empty matches everything.
type Filter struct {
	Who        string     // part of the actor's email or name, or "system"
	CCGCode    string     // the CCG the changed thing belonged to
	EntityType string     // the kind of thing, one of EntityTypes
	EntityID   string     // the thing itself, as its page names it
	From, To   *time.Time // London days, both included
}

// Search returns a page of the entries the filter matches, newest first,
// with how many match. Each filter has its index (migration 000010), and
// the page is cut in SQL.
func Search(ctx context.Context, db postgres.Querier, f Filter, page paging.Page) (paging.Result[Entry], error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if who := strings.TrimSpace(f.Who); strings.EqualFold(who, "system") {
		conds = append(conds, "a.actor_id IS NULL")
	} else if who != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(who)) + "%"
		conds = append(conds, "a.actor_id = ANY (ARRAY(SELECT id FROM users WHERE email LIKE "+arg(like)+" OR lower(name) LIKE "+arg(like)+"))")
	}
	if f.CCGCode != "" {
		conds = append(conds, "a.ccg_code = "+arg(strings.ToUpper(strings.TrimSpace(f.CCGCode))))
	}
	if f.EntityType != "" {
		conds = append(conds, "a.entity_type = "+arg(f.EntityType))
	}
	if f.EntityID != "" {
		conds = append(conds, "a.entity_id = "+arg(strings.TrimSpace(f.EntityID)))
	}
	if f.From != nil {
		conds = append(conds, "a.at >= "+arg(dates.StartOf(*f.From)))
	}
	if f.To != nil {
		conds = append(conds, "a.at < "+arg(dates.StartOf(f.To.AddDate(0, 0, 1))))
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	res := paging.Result[Entry]{Page: page}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log a `+where, args...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("count audit log: %w", err)
	}
	limit, offset := arg(page.Size), arg(page.Offset())
	rows, err := db.Query(ctx, `
		SELECT a.id, a.at, a.actor_id, coalesce(u.email, 'system'), a.action, a.entity_type, a.entity_id, coalesce(a.ccg_code, ''),
		       coalesce(a.before, 'null'), coalesce(a.after, 'null')
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
		`+where+` ORDER BY a.at DESC, a.id DESC LIMIT `+limit+` OFFSET `+offset, args...)
	if err != nil {
		return res, fmt.Errorf("read audit log: %w", err)
	}
	res.Rows, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorEmail, &e.Action, &e.EntityType, &e.EntityID, &e.CCGCode, &e.Before, &e.After)
		return e, err
	})
	if err != nil {
		return res, fmt.Errorf("read audit log: %w", err)
	}
	return res, nil
}
