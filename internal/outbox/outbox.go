// Package outbox owns the outbox table: every email the service sends is
// written here first, in the transaction of the change that causes it (a
// return sent back, a set-password link, the night's reminders), and sent
// later by a worker, each message once. A change that fails queues nothing.
//
// A message is stored as plain words and the path of the page it is about;
// the link is made from BASE_URL when the message is sent or shown, so that
// the domain code that queues it needs no configuration and a queued
// message follows a move of the service to a new address.
package outbox

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/postgres"
)

// Kind is what a message is for.
type Kind string

// The kinds of message, as the outbox table's check allows them.
const (
	DueSoon           Kind = "due_soon"
	Overdue           Kind = "overdue"
	LateDigest        Kind = "late_digest"
	ReturnReturned    Kind = "return_returned"
	ReturnAccepted    Kind = "return_accepted"
	ReturnResubmitted Kind = "return_resubmitted"
	PasswordLink      Kind = "password_link"
)

// Name is the kind in words, for the account page and the admin's outbox.
func (k Kind) Name() string {
	switch k {
	case DueSoon:
		return "Return due in 3 days"
	case Overdue:
		return "Return late"
	case LateDigest:
		return "Morning list of late returns"
	case ReturnReturned:
		return "Return sent back"
	case ReturnAccepted:
		return "Return accepted"
	case ReturnResubmitted:
		return "Return submitted again"
	case PasswordLink:
		return "Set-password link"
	}
	return string(k)
}

// Message is one email to queue.
type Message struct {
	// Key names the message's purpose: queuing the same key again does
	// nothing, so a message is queued once however often its cause runs.
	Key     string
	Kind    Kind
	UserID  int64 // the person it is for
	To      string
	Subject string
	Body    string // plain words, without the link or the signature
	Path    string // the page it is about, like /ccgs/16C/returns/2026-11
}

// Enqueue writes one message in tx unless its key is there already, and
// reports whether it was written. This is the only way into the outbox.
func Enqueue(ctx context.Context, tx pgx.Tx, now time.Time, m Message) (bool, error) {
	var user *int64
	if m.UserID != 0 {
		user = &m.UserID
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO outbox (dedupe_key, kind, user_id, to_address, subject, body, link_path, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (dedupe_key) DO NOTHING`,
		m.Key, m.Kind, user, m.To, m.Subject, m.Body, m.Path, now)
	if err != nil {
		return false, fmt.Errorf("queue %s: %w", m.Key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Text is the whole email as sent: the words, the link made from baseURL
// (like https://tracker.example.nhs.uk, without a trailing slash), and the
// signature.
func Text(body, path, baseURL string) string {
	var b strings.Builder
	b.WriteString(body)
	if path != "" {
		b.WriteString("\n\n")
		b.WriteString(strings.TrimSuffix(baseURL, "/") + path)
	}
	b.WriteString("\n\nCCG Order Tracker")
	return b.String()
}

// Queued is one message of the outbox as it is now.
type Queued struct {
	ID        int64
	Kind      Kind
	To        string
	Subject   string
	Body      string
	Path      string
	CreatedAt time.Time
	SentAt    *time.Time
	Attempts  int
	LastError string
}

// Text is the email as sent, with the link from baseURL.
func (q Queued) Text(baseURL string) string { return Text(q.Body, q.Path, baseURL) }

const queuedColumns = `id, kind, to_address, subject, body, link_path, created_at, sent_at, attempts, last_error`

// Recent returns the latest messages, unsent first, for admins.
func Recent(ctx context.Context, db postgres.Querier, limit int) ([]Queued, error) {
	rows, err := db.Query(ctx, `SELECT `+queuedColumns+`
		FROM outbox ORDER BY sent_at IS NOT NULL, created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Queued])
}

// ForUser returns the latest messages queued or sent to one user, newest
// first (outbox_user_idx).
func ForUser(ctx context.Context, db postgres.Querier, userID int64, limit int) ([]Queued, error) {
	rows, err := db.Query(ctx, `SELECT `+queuedColumns+`
		FROM outbox WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("messages of user %d: %w", userID, err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Queued])
}

// Mailer sends one email.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// maxAttempts is how often a message is tried before it is left for an admin.
const maxAttempts = 8

// SendDue sends every message due at now, one at a time: each is locked
// (so two senders never take the same one), sent, and marked sent in its
// own transaction, so a message that was sent is never sent again. A
// failure is retried later, backing off: 1, 2, 4 ... minutes. baseURL
// makes the messages' links.
func SendDue(ctx context.Context, pool *pgxpool.Pool, m Mailer, baseURL string, now time.Time) (int, error) {
	sent := 0
	for {
		done, err := sendOne(ctx, pool, m, baseURL, now)
		if err != nil || !done {
			return sent, err
		}
		sent++
	}
}

func sendOne(ctx context.Context, pool *pgxpool.Pool, m Mailer, baseURL string, now time.Time) (bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var id int64
	var to, subject, body, path string
	var attempts int
	err = tx.QueryRow(ctx, `
		SELECT id, to_address, subject, body, link_path, attempts FROM outbox
		WHERE sent_at IS NULL AND next_attempt_at <= $1 AND attempts < $2
		ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, now, maxAttempts).Scan(&id, &to, &subject, &body, &path, &attempts)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("next message: %w", err)
	}
	if serr := m.Send(ctx, to, subject, Text(body, path, baseURL)); serr != nil {
		backoff := time.Duration(1<<attempts) * time.Minute
		if _, err := tx.Exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1`,
			id, serr.Error(), now.Add(backoff)); err != nil {
			return false, err
		}
		// Committed so the attempt counts; the next message is tried next.
		return true, tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, `UPDATE outbox SET sent_at = $2, attempts = attempts + 1, last_error = '' WHERE id = $1`, id, now); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

// Failed lists the messages not sent whose last attempt failed, newest
// first, at most limit of them, and how many there are: the admin's
// dashboard. One query, on the partial index of failed messages
// (migration 000013).
func Failed(ctx context.Context, db postgres.Querier, limit int) ([]Queued, int, error) {
	rows, err := db.Query(ctx, `
		SELECT `+queuedColumns+`, count(*) OVER ()
		FROM outbox WHERE sent_at IS NULL AND last_error <> ''
		ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("failed messages: %w", err)
	}
	total := 0
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Queued, error) {
		var q Queued
		err := row.Scan(&q.ID, &q.Kind, &q.To, &q.Subject, &q.Body, &q.Path, &q.CreatedAt, &q.SentAt, &q.Attempts, &q.LastError, &total)
		return q, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("failed messages: %w", err)
	}
	return out, total, nil
}
