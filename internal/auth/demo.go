package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/audit"
)

// DemoPassword is the password of every demo user. Demo users exist only
// where `tracker seed --demo` was run, never in a real deployment.
const DemoPassword = "demo-password"

// DemoUsers are the sign-ins printed by `make run`: one per role, and a
// buyer for each of two CCGs.
var DemoUsers = []NewUser{
	{Email: "admin@example.nhs.uk", Name: "Ada Admin", Role: Admin},
	{Email: "reviewer@example.nhs.uk", Name: "Rita Reviewer", Role: Reviewer},
	{Email: "finance@example.nhs.uk", Name: "Fin Finance", Role: Finance},
	{Email: "buyer.16c@example.nhs.uk", Name: "Bea Buyer", Role: Buyer, CCGCode: "16C"},
	{Email: "buyer.03q@example.nhs.uk", Name: "Ben Buyer", Role: Buyer, CCGCode: "03Q"},
}

// SeedDemoUsers creates the demo users that do not exist yet and returns
// how many it created.
func SeedDemoUsers(ctx context.Context, tx pgx.Tx, now time.Time) (int, error) {
	created := 0
	for _, n := range DemoUsers {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`, n.Email).Scan(&exists); err != nil {
			return created, err
		}
		if exists {
			continue
		}
		hash, err := HashPassword(DemoPassword)
		if err != nil {
			return created, err
		}
		u, err := insertUser(ctx, tx, now, n, &hash)
		if err != nil {
			return created, fmt.Errorf("demo user %s: %w", n.Email, err)
		}
		if err := audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         nil,
			Action:     "user.create",
			EntityType: "user",
			EntityID:   fmt.Sprint(u.ID),
			After:      auditView(u),
		}); err != nil {
			return created, err
		}
		created++
	}
	return created, nil
}
