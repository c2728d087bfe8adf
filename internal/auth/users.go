package auth

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
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

// Actor is the user as the one who carries out a command, within their
// scope.
func (u User) Actor() org.Actor { return org.UserActor(u.ID, u.Scope()) }

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
		errs[FieldEmail] = "Enter an email address"
	} else if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email {
		errs[FieldEmail] = "Enter an email address in the correct format, like name@example.nhs.uk"
	}
	if n.Name == "" {
		errs[FieldName] = "Enter the person's full name"
	} else if len(n.Name) > 200 {
		errs[FieldName] = "Name must be 200 characters or fewer"
	}
	if !n.Role.valid() {
		errs[FieldRole] = "Select a role"
	}
	if n.Role == Buyer && n.CCGCode == "" {
		errs[FieldCCG] = "Select the CCG this buyer belongs to"
	}
	if n.Role != Buyer {
		n.CCGCode = "" // only buyers belong to a CCG
	}
	return errs
}

// CreateUser adds a user without a password; an admin then issues them a
// set-password link. The change and its audit record commit together.
func (s *Store) CreateUser(ctx context.Context, a org.Actor, n NewUser) (User, error) {
	now := s.now()
	if errs := n.Validate(); len(errs) > 0 {
		return User{}, &apperr.Error{Code: apperr.Invalid, Message: "The user could not be created", Fields: errs}
	}
	var u User
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		u, err = insertUser(ctx, tx, now, n, nil)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "user.create",
			EntityType: "user",
			EntityID:   fmt.Sprint(u.ID),
			After:      auditView(u),
		})
	})
	return u, err
}

// ccgOf checks a user's CCG code and returns it as the column takes it:
// nil for no CCG.
func ccgOf(ctx context.Context, tx pgx.Tx, code string) (*string, error) {
	if code == "" {
		return nil, nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ccgs WHERE code = $1)`, code).Scan(&exists); err != nil {
		return nil, fmt.Errorf("check CCG %s: %w", code, err)
	}
	if !exists {
		return nil, apperr.Invalidf(FieldCCG, "There is no CCG with the code %s", code)
	}
	return &code, nil
}

func insertUser(ctx context.Context, tx pgx.Tx, now time.Time, n NewUser, passwordHash *string) (User, error) {
	ccg, err := ccgOf(ctx, tx, n.CCGCode)
	if err != nil {
		return User{}, err
	}
	var id int64
	err = tx.QueryRow(ctx, `
		INSERT INTO users (email, name, role, ccg_code, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, n.Email, n.Name, n.Role, ccg, passwordHash, now).Scan(&id)
	if postgres.IsUniqueViolation(err) {
		return User{}, apperr.Invalidf(FieldEmail, "A user with the email address %s already exists", n.Email)
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

// Deactivate stops a user signing in and ends their sessions at once.
func (s *Store) Deactivate(ctx context.Context, a org.Actor, id int64) error {
	now := s.now()
	if a.ID != nil && *a.ID == id {
		return apperr.New(apperr.Invalid, "You cannot deactivate your own account.")
	}
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if !before.Active {
			return apperr.New(apperr.Conflict, "%s is already deactivated.", before.Email)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET active = false WHERE id = $1`, id); err != nil {
			return fmt.Errorf("deactivate user %d: %w", id, err)
		}
		if err := endSessions(ctx, tx, id); err != nil {
			return err
		}
		after := before
		after.Active = false
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "user.deactivate",
			EntityType: "user",
			EntityID:   fmt.Sprint(id),
			Before:     auditView(before),
			After:      auditView(after),
		})
	})
}

func lockUser(ctx context.Context, tx pgx.Tx, id int64) (User, error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
		return User{}, fmt.Errorf("lock user %d: %w", id, err)
	}
	return GetUser(ctx, tx, id)
}

// Active returns the active users of a role, of one CCG when ccgCode is
// set: the people a message about a CCG's return goes to. They are few
// (a CCG's buyers, NHS Digital's reviewers), so the list is not paged.
func Active(ctx context.Context, db postgres.Querier, role Role, ccgCode string) ([]User, error) {
	rows, err := db.Query(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN ccgs c ON c.code = u.ccg_code
		WHERE u.role = $1 AND u.active AND ($2 = '' OR u.ccg_code = $2) ORDER BY u.id`, role, ccgCode)
	if err != nil {
		return nil, fmt.Errorf("active %s users: %w", role, err)
	}
	return pgx.CollectRows(rows, scanUser)
}

// The fields auth's refusals are about, by meaning: a user's name, email
// address, role and CCG, and a password chosen (with its confirmation) or
// given to sign in. The server maps them to the forms' inputs.
const (
	FieldName     = "name"
	FieldEmail    = "email"
	FieldRole     = "role"
	FieldCCG      = "ccg"
	FieldPassword = "password"
	FieldConfirm  = "confirm"
)

// UserChange is what an admin may put right about a user: their name,
// role and CCG. Version is the user as the admin saw it (see UserVersion),
// so two admins editing one user never silently overwrite each other.
type UserChange struct {
	Name    string
	Role    Role
	CCGCode string
	Version string
}

// UserVersion names a user's state as an edit form saw it: their name,
// role, CCG, status and session epoch. The users table has no version
// column; these are every field an admin's action changes.
func UserVersion(u User) string {
	return fmt.Sprintf("%d.%t.%s.%s.%s", u.SessionEpoch, u.Active, u.Role, u.CCGCode, u.Name)
}

// UserUpdate is what UpdateUser did: the user as they are now, and
// whether their sessions were ended (their role or CCG changed).
type UserUpdate struct {
	User      User
	SignedOut bool
}

// ErrUserChanged is the answer to an edit made on a stale page.
var ErrUserChanged = apperr.New(apperr.Conflict, "Someone else changed this user while you were editing. Check their details as they are now and make your change again.")

// UpdateUser changes a user's name, role and CCG, audited. A user whose
// role or CCG changes is signed out everywhere in the same transaction:
// what they may see has changed under them. A name alone changes nothing
// they may do, so their sessions go on.
func (s *Store) UpdateUser(ctx context.Context, a org.Actor, id int64, c UserChange) (UserUpdate, error) {
	now := s.now()
	n := NewUser{Email: "x@x", Name: c.Name, Role: c.Role, CCGCode: c.CCGCode}
	errs := n.Validate()
	delete(errs, FieldEmail)
	if len(errs) > 0 {
		return UserUpdate{}, &apperr.Error{Code: apperr.Invalid, Message: "The user could not be changed", Fields: errs}
	}
	if a.ID != nil && *a.ID == id && n.Role != Admin {
		return UserUpdate{}, apperr.Invalidf(FieldRole, "You cannot take the administrator role from your own account: ask another administrator")
	}
	var done UserUpdate
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if UserVersion(before) != c.Version {
			return ErrUserChanged
		}
		ccg, err := ccgOf(ctx, tx, n.CCGCode)
		if err != nil {
			return err
		}
		if before.Name == n.Name && before.Role == n.Role && before.CCGCode == n.CCGCode {
			done.User = before
			return nil // nothing to change: no audit entry for nothing
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET name = $2, role = $3, ccg_code = $4 WHERE id = $1`, id, n.Name, n.Role, ccg); err != nil {
			return fmt.Errorf("change user %d: %w", id, err)
		}
		if before.Role != n.Role || before.CCGCode != n.CCGCode {
			if err := endSessions(ctx, tx, id); err != nil {
				return err
			}
			done.SignedOut = true
		}
		if done.User, err = GetUser(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "user.update",
			EntityType: "user",
			EntityID:   fmt.Sprint(id),
			Before:     auditView(before),
			After:      auditView(done.User),
		})
	})
	if err != nil {
		return UserUpdate{}, err
	}
	return done, nil
}

// Reactivate lets a deactivated user sign in again. Their old sessions
// stay ended (the epoch moved on when they were deactivated); a password
// they had still works, or an admin sends them a new link.
func (s *Store) Reactivate(ctx context.Context, a org.Actor, id int64) error {
	now := s.now()
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		before, err := lockUser(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Active {
			return apperr.New(apperr.Conflict, "%s is already active.", before.Email)
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET active = true WHERE id = $1`, id); err != nil {
			return fmt.Errorf("reactivate user %d: %w", id, err)
		}
		after := before
		after.Active = true
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "user.reactivate",
			EntityType: "user",
			EntityID:   fmt.Sprint(id),
			Before:     auditView(before),
			After:      auditView(after),
		})
	})
}

// UserFilter narrows the admin's list of users.
type UserFilter struct {
	Query   string // part of the name or email
	Role    Role   // "" for every role
	CCGCode string // "" for every CCG
	Status  string // "active", "deactivated" or "" for both
}

// UserStatuses are the status filter's choices.
var UserStatuses = []string{"active", "deactivated"}

// SearchUsers returns a page of the users the filter matches, active
// first, by name, with how many match.
func SearchUsers(ctx context.Context, db postgres.Querier, f UserFilter, page paging.Page) (paging.Result[User], error) {
	where := `WHERE ($1 = '' OR u.name ILIKE '%' || $1 || '%' OR u.email ILIKE '%' || $1 || '%')
		AND ($2 = '' OR u.role = $2) AND ($3 = '' OR u.ccg_code = $3)
		AND ($4 = '' OR u.active = ($4 = 'active'))`
	q := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.TrimSpace(f.Query))
	args := []any{q, string(f.Role), strings.ToUpper(strings.TrimSpace(f.CCGCode)), f.Status}
	res := paging.Result[User]{Page: page}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM users u `+where, args...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("count users: %w", err)
	}
	rows, err := db.Query(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN ccgs c ON c.code = u.ccg_code `+where+`
		ORDER BY u.active DESC, u.name, u.email, u.id LIMIT $5 OFFSET $6`, append(args, page.Size, page.Offset())...)
	if err != nil {
		return res, fmt.Errorf("search users: %w", err)
	}
	if res.Rows, err = pgx.CollectRows(rows, scanUser); err != nil {
		return res, fmt.Errorf("search users: %w", err)
	}
	return res, nil
}
