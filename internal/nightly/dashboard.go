package nightly

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// FailedMessages lists the messages of the outbox not sent whose last
// attempt failed, newest first, at most limit of them, and how many there
// are: the admin's dashboard. One query, on the partial index of failed
// messages (migration 000013).
func FailedMessages(ctx context.Context, db postgres.Querier, limit int) ([]Message, int, error) {
	rows, err := db.Query(ctx, `
		SELECT id, kind, to_address, subject, body, created_at, sent_at, attempts, last_error, count(*) OVER ()
		FROM outbox WHERE sent_at IS NULL AND last_error <> ''
		ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("failed messages: %w", err)
	}
	total := 0
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Message, error) {
		var m Message
		err := row.Scan(&m.ID, &m.Kind, &m.To, &m.Subject, &m.Body, &m.CreatedAt, &m.SentAt, &m.Attempts, &m.LastError, &total)
		return m, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("failed messages: %w", err)
	}
	return out, total, nil
}
