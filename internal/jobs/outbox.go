package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"
)

// Mailer sends one email.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// SMTP sends email through an SMTP server with STARTTLS when offered.
type SMTP struct {
	Host, Username, Password, From string
	Port                           int
}

// Send sends one plain-text message.
func (s SMTP) Send(ctx context.Context, to, subject, body string) error {
	m := mail.NewMsg()
	if err := m.From(s.From); err != nil {
		return fmt.Errorf("from %q: %w", s.From, err)
	}
	if err := m.To(to); err != nil {
		return fmt.Errorf("to %q: %w", to, err)
	}
	m.Subject(subject)
	m.SetBodyString(mail.TypeTextPlain, body)
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTLSPolicy(mail.TLSOpportunistic)}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	return c.DialAndSendWithContext(ctx, m)
}

// SendArgs asks for the outbox to be sent.
type SendArgs struct{}

// Kind names the job in River's tables.
func (SendArgs) Kind() string { return "send_outbox" }

// InsertOpts keeps at most one send job waiting at a time.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SendWorker sends the messages that are due.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Pool   *pgxpool.Pool
	Mailer Mailer
	Now    func() time.Time
}

// Work sends what is due.
func (w *SendWorker) Work(ctx context.Context, _ *river.Job[SendArgs]) error {
	_, err := SendDue(ctx, w.Pool, w.Mailer, w.Now())
	return err
}

// maxAttempts is how often a message is tried before it is left for an admin.
const maxAttempts = 8

// SendDue sends every message due at now, one at a time: each is locked
// (so two senders never take the same one), sent, and marked sent in its
// own transaction, so a message that was sent is never sent again. A
// failure is retried later, backing off: 1, 2, 4 ... minutes.
func SendDue(ctx context.Context, pool *pgxpool.Pool, m Mailer, now time.Time) (int, error) {
	sent := 0
	for {
		done, err := sendOne(ctx, pool, m, now)
		if err != nil || !done {
			return sent, err
		}
		sent++
	}
}

func sendOne(ctx context.Context, pool *pgxpool.Pool, m Mailer, now time.Time) (bool, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var id int64
	var to, subject, body string
	var attempts int
	err = tx.QueryRow(ctx, `
		SELECT id, to_address, subject, body, attempts FROM outbox
		WHERE sent_at IS NULL AND next_attempt_at <= $1 AND attempts < $2
		ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, now, maxAttempts).Scan(&id, &to, &subject, &body, &attempts)
	if err == pgx.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("next message: %w", err)
	}
	if serr := m.Send(ctx, to, subject, body); serr != nil {
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
