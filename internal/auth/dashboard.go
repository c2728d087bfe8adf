package auth

import (
	"context"
	"fmt"

	"ccgtracker/internal/postgres"
)

// RoleCount is how many users of one role there are: active ones, those
// of them who have not set a password yet, and deactivated ones.
type RoleCount struct {
	Role                     Role
	Active, NoPassword, Gone int
}

// CountUsers counts the users by role, in the order of Roles: one
// aggregate over the users table (a few hundred people even at national
// scale), never a list of them.
func CountUsers(ctx context.Context, db postgres.Querier) ([]RoleCount, error) {
	rows, err := db.Query(ctx, `
		SELECT role, count(*) FILTER (WHERE active), count(*) FILTER (WHERE active AND password_hash IS NULL), count(*) FILTER (WHERE NOT active)
		FROM users GROUP BY role`)
	if err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	defer rows.Close()
	byRole := map[Role]RoleCount{}
	for rows.Next() {
		var c RoleCount
		if err := rows.Scan(&c.Role, &c.Active, &c.NoPassword, &c.Gone); err != nil {
			return nil, fmt.Errorf("count users: %w", err)
		}
		byRole[c.Role] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	out := make([]RoleCount, len(Roles))
	for i, r := range Roles {
		out[i] = byRole[r]
		out[i].Role = r
	}
	return out, nil
}
