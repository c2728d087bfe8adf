package auth

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// Role is what a user may do (DOMAIN.md §1). A user has exactly one.
type Role string

// The roles.
const (
	Buyer    Role = "buyer"
	Reviewer Role = "reviewer"
	Finance  Role = "finance"
	Admin    Role = "admin"
)

// Roles lists every role, in the order forms offer them.
var Roles = []Role{Buyer, Reviewer, Finance, Admin}

// Name is the role in words.
func (r Role) Name() string {
	switch r {
	case Buyer:
		return "CCG buyer"
	case Reviewer:
		return "NHS Digital reviewer"
	case Finance:
		return "NHS Digital finance"
	case Admin:
		return "Administrator"
	}
	return string(r)
}

func (r Role) valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// User is a person with an account.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         Role
	CCGCode      string // a buyer's CCG; empty for other roles
	CCGName      string
	Active       bool
	SessionEpoch int
	HasPassword  bool
	CreatedAt    time.Time
}

// Scope is the set of CCGs the user may see: a buyer their own, every
// other role all of them.
func (u User) Scope() org.Scope {
	if u.Role == Buyer {
		return org.OnlyCCG(u.CCGCode)
	}
	return org.AllCCGs()
}

const userColumns = `
	u.id, u.email, u.name, u.role, coalesce(u.ccg_code, ''), coalesce(c.name, ''), u.active,
	u.session_epoch, u.password_hash IS NOT NULL, u.created_at`

func scanUser(row pgx.CollectableRow) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.CCGCode, &u.CCGName, &u.Active,
		&u.SessionEpoch, &u.HasPassword, &u.CreatedAt)
	return u, err
}

// GetUser returns one user by id.
func GetUser(ctx context.Context, db postgres.Querier, id int64) (User, error) {
	rows, err := db.Query(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN ccgs c ON c.code = u.ccg_code WHERE u.id = $1`, id)
	if err != nil {
		return User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser)
	if err != nil {
		return User{}, postgres.NotFound(err, "No such user.")
	}
	return u, nil
}

// ListUsers returns every user, active first, by name.
func ListUsers(ctx context.Context, db postgres.Querier) ([]User, error) {
	rows, err := db.Query(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN ccgs c ON c.code = u.ccg_code
		ORDER BY u.active DESC, u.name, u.email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return pgx.CollectRows(rows, scanUser)
}

// NewUser is what an admin enters to create a user.
type NewUser struct {
	Email   string
	Name    string
	Role    Role
	CCGCode string
}

// Validate returns what is wrong with each field, keyed by field name.
func (n *NewUser) Validate() map[string]string {
	errs := map[string]string{}
	n.Email = strings.ToLower(strings.TrimSpace(n.Email))
	n.Name = strings.TrimSpace(n.Name)
	n.CCGCode = strings.ToUpper(strings.TrimSpace(n.CCGCode))
	if n.Email == "" {
		errs["email"] = "Enter an email address"
	} else if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email {
		errs["email"] = "Enter an email address in the correct format, like name@example.nhs.uk"
	}
	if n.Name == "" {
		errs["name"] = "Enter the person's full name"
	} else if len(n.Name) > 200 {
		errs["name"] = "Name must be 200 characters or fewer"
	}
	if !n.Role.valid() {
		errs["role"] = "Select a role"
	}
	if n.Role == Buyer && n.CCGCode == "" {
		errs["ccg"] = "Select the CCG this buyer belongs to"
	}
	if n.Role != Buyer {
		n.CCGCode = "" // only buyers belong to a CCG
	}
	return errs
}

// CreateUser adds a user without a password; an admin then issues them a
// set-password link. The change and its audit record commit together.
func CreateUser(ctx context.Context, pool *pgxpool.Pool, now time.Time, actorID *int64, n NewUser) (User, error) {
	if errs := n.Validate(); len(errs) > 0 {
		return User{}, &apperr.Error{Code: apperr.Invalid, Message: "The user could not be created", Fields: errs}
	}
	var u User
	err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		u, err = insertUser(ctx, tx, now, n, nil)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, now, actorID, "user.create", "user", fmt.Sprint(u.ID), nil, auditView(u))
	})
	return u, err
}

func insertUser(ctx context.Context, tx pgx.Tx, now time.Time, n NewUser, passwordHash *string) (User, error) {
	if n.CCGCode != "" {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ccgs WHERE code = $1)`, n.CCGCode).Scan(&exists); err != nil {
			return User{}, fmt.Errorf("check CCG %s: %w", n.CCGCode, err)
		}
		if !exists {
			return User{}, apperr.Invalidf("ccg", "There is no CCG with the code %s", n.CCGCode)
		}
	}
	var ccg *string
	if n.CCGCode != "" {
		ccg = &n.CCGCode
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO users (email, name, role, ccg_code, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, n.Email, n.Name, n.Role, ccg, passwordHash, now).Scan(&id)
	if postgres.IsUniqueViolation(err) {
		return User{}, apperr.Invalidf("email", "A user with the email address %s already exists", n.Email)
	}
	if err != nil {
		return User{}, fmt.Errorf("insert user %s: %w", n.Email, err)
	}
	return GetUser(ctx, tx, id)
}

// auditView is what the audit log keeps of a user: never the password hash.
func auditView(u User) map[string]any {
	return map[string]any{"email": u.Email, "name": u.Name, "role": u.Role, "ccg": u.CCGCode, "active": u.Active}
}

// Deactivate stops a user signing in and ends their sessions at once (the
// session epoch moves on, so every session they hold is refused).
func Deactivate(ctx context.Context, pool *pgxpool.Pool, now time.Time, actorID int64, id int64) error {
	if actorID == id {
		return apperr.New(apperr.Invalid, "You cannot deactivate your own account.")
	}
	return postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		before, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !before.Active {
			return apperr.New(apperr.Conflict, "%s is already deactivated.", before.Email)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET active = false, session_epoch = session_epoch + 1 WHERE id = $1`, id); err != nil {
			return fmt.Errorf("deactivate user %d: %w", id, err)
		}
		after := before
		after.Active = false
		return audit.Record(ctx, tx, now, &actorID, "user.deactivate", "user", fmt.Sprint(id), auditView(before), auditView(after))
	})
}

func lockUser(ctx context.Context, tx pgx.Tx, id int64) (User, error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
		return User{}, fmt.Errorf("lock user %d: %w", id, err)
	}
	return GetUser(ctx, tx, id)
}
