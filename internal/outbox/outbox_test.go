package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"ccgtracker/internal/outbox"
	"ccgtracker/internal/postgres/pgtest"
)

// fakeMailer records what it sent and fails while failing is set.
type fakeMailer struct {
	mu      sync.Mutex
	sent    []string
	failing bool
}

func (m *fakeMailer) Send(_ context.Context, to, subject, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return errors.New("421 service not available")
	}
	m.sent = append(m.sent, to+": "+subject)
	return nil
}

func TestOutboxIsSentOnceAndRetriedWithBackOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC)
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (dedupe_key, kind, to_address, subject, body, created_at, next_attempt_at)
		VALUES ('a', 'overdue', 'a@example.nhs.uk', 'A', 'x', $1, $1), ('b', 'overdue', 'b@example.nhs.uk', 'B', 'x', $1, $1)`, now); err != nil {
		t.Fatal(err)
	}
	m := &fakeMailer{failing: true}
	if n, err := outbox.SendDue(ctx, pool, m, "https://tracker.example.nhs.uk", now); err != nil || n != 2 {
		t.Fatalf("first pass: %d handled (%v)", n, err)
	}
	var attempts int
	var next time.Time
	if err := pool.QueryRow(ctx, `SELECT attempts, next_attempt_at FROM outbox WHERE dedupe_key = 'a'`).Scan(&attempts, &next); err != nil {
		t.Fatal(err)
	}
	if attempts != 1 || !next.Equal(now.Add(time.Minute)) {
		t.Errorf("after a failure: %d attempts, next at %s, want 1 and a minute later", attempts, next)
	}
	// Not due again yet: nothing is tried.
	if n, _ := outbox.SendDue(ctx, pool, m, "https://tracker.example.nhs.uk", now.Add(30*time.Second)); n != 0 {
		t.Errorf("%d tried before their next attempt", n)
	}
	m.failing = false
	// Two senders at once (two instances): each message goes once.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := outbox.SendDue(ctx, pool, m, "https://tracker.example.nhs.uk", now.Add(2*time.Minute)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := outbox.SendDue(ctx, pool, m, "https://tracker.example.nhs.uk", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(m.sent) != 2 {
		t.Errorf("sent %v, want each message once", m.sent)
	}
}
