package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"ccgtracker/internal/outbox"
)

// Mailer sends one email.
type Mailer = outbox.Mailer

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
	Pool    *pgxpool.Pool
	Mailer  Mailer
	BaseURL string // makes the messages' links
	Now     func() time.Time
}

// Work sends what is due.
func (w *SendWorker) Work(ctx context.Context, _ *river.Job[SendArgs]) error {
	_, err := outbox.SendDue(ctx, w.Pool, w.Mailer, w.BaseURL, w.Now())
	return err
}
