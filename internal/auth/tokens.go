package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/links"
	"ccgtracker/internal/org"
	"ccgtracker/internal/outbox"
	"ccgtracker/internal/postgres"
)

// PasswordLinkLifetime is how long a set-password link works.
const PasswordLinkLifetime = 24 * time.Hour

// ErrLinkNotValid is shown for every link that cannot be used: unknown,
// expired or already used look the same.
var ErrLinkNotValid = apperr.New(apperr.NotFound, "This link to set a password has expired or has already been used. Ask an administrator for a new one.")

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// IssuePasswordLink creates a one-time token with which userID sets their
// password. Only its hash is stored; the token itself is shown once.
//
// The link is also emailed to the user through the outbox, queued in the
// same transaction (a link that could not be stored is never sent); the
// admin still sees it once, to pass on if the email does not arrive.
func (s *Store) IssuePasswordLink(ctx context.Context, a org.Actor, userID int64) (string, error) {
	now := s.now()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !u.Active {
			return apperr.New(apperr.Invalid, "%s is deactivated: a deactivated user cannot be sent a link.", u.Email)
		}
		// A new link replaces any earlier one that is still unused.
		if _, err := tx.Exec(ctx, `UPDATE password_tokens SET expires_at = $2 WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2`, userID, now); err != nil {
			return fmt.Errorf("expire earlier links: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO password_tokens (token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			hashToken(token), userID, a.ID, now, now.Add(PasswordLinkLifetime)); err != nil {
			return fmt.Errorf("store link: %w", err)
		}
		hash := hashToken(token)
		if _, err := outbox.Enqueue(ctx, tx, now, outbox.Message{
			Key:  fmt.Sprintf("password_link:%d:%x", userID, hash[:8]),
			Kind: outbox.PasswordLink, UserID: userID, To: u.Email,
			Subject: "Set your password for the CCG Order Tracker",
			Body: fmt.Sprintf("Dear %s,\n\nAn administrator has given you an account on the CCG Order Tracker (%s). "+
				"Use this link to set your password. It works once, until %s (London time); if it has expired, ask an administrator for a new one.",
				u.Name, u.Role.Name(), now.Add(PasswordLinkLifetime).In(dates.London).Format("15:04 on 2 January 2006")),
			Path: links.SetPassword(token),
		}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "user.password_link",
			EntityType: "user",
			EntityID:   fmt.Sprint(userID),
			After:      map[string]any{"expires_at": now.Add(PasswordLinkLifetime)},
		})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// PasswordLinkUser returns the user a valid link is for.
func PasswordLinkUser(ctx context.Context, db postgres.Querier, now time.Time, token string) (User, error) {
	var userID int64
	err := db.QueryRow(ctx, `
		SELECT t.user_id FROM password_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 AND u.active`, hashToken(token), now).Scan(&userID)
	if err != nil {
		if err == pgx.ErrNoRows {
			return User{}, ErrLinkNotValid
		}
		return User{}, fmt.Errorf("read link: %w", err)
	}
	return GetUser(ctx, db, userID)
}

// SetPasswordWithLink uses the link once: it sets the password, ends the
// user's other sessions and marks the link used, all in one transaction.
// No one is signed in: the link's holder acts, as the user it is for.
func (s *Store) SetPasswordWithLink(ctx context.Context, token, password, confirm string) (User, error) {
	now := s.now()
	if errs := CheckNewPassword(password, confirm); len(errs) > 0 {
		return User{}, &apperr.Error{Code: apperr.Invalid, Message: "The password could not be set", Fields: errs}
	}
	hash, err := HashPassword(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var userID int64
		err := tx.QueryRow(ctx, `
			UPDATE password_tokens t SET used_at = $2
			FROM users u
			WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 AND u.id = t.user_id AND u.active
			RETURNING t.user_id`, hashToken(token), now).Scan(&userID)
		if err == pgx.ErrNoRows {
			return ErrLinkNotValid
		}
		if err != nil {
			return fmt.Errorf("use link: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1 WHERE id = $1`, userID, hash); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if u, err = GetUser(ctx, tx, userID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         &userID,
			Action:     "user.set_password",
			EntityType: "user",
			EntityID:   fmt.Sprint(userID),
		})
	})
	return u, err
}
