package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SessionStore is the scs store of the sessions table. It is scs's
// PostgreSQL store with one addition: beside scs's opaque data it writes
// the id of the user the session is signed in as, so that a change to a
// user (a new role or CCG) can end every session they hold in its own
// transaction (endSessions), rather than each on its next request.
type SessionStore struct {
	Pool *pgxpool.Pool
	// UserKey is the session key that holds the signed-in user's id.
	UserKey string
}

var _ scs.CtxStore = SessionStore{}

// userOf reads the signed-in user's id out of a session's data (0 for a
// session nobody is signed in to).
func (s SessionStore) userOf(b []byte) *int64 {
	_, values, err := scs.GobCodec{}.Decode(b)
	if err != nil {
		return nil
	}
	if id, ok := values[s.UserKey].(int64); ok && id != 0 {
		return &id
	}
	return nil
}

// FindCtx returns the data of an unexpired session.
func (s SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.Pool.QueryRow(ctx, `SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry`, token).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// CommitCtx writes a session with its user.
func (s SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO sessions (token, data, expiry, user_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry, user_id = EXCLUDED.user_id`,
		token, b, expiry, s.userOf(b))
	return err
}

// DeleteCtx removes a session.
func (s SessionStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return err
}

// Find is FindCtx without a context (scs.Store).
func (s SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context (scs.Store).
func (s SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context (scs.Store).
func (s SessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// endSessions signs a user out everywhere, in tx: their sessions are
// deleted, and their epoch moves on, so that a session a request in
// flight writes back after the delete is refused on its next request too.
func endSessions(ctx context.Context, tx pgx.Tx, userID int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1`, userID); err != nil {
		return fmt.Errorf("end sessions of user %d: %w", userID, err)
	}
	return nil
}
