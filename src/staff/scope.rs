//! What each role may see and do (pure). Workers and supervisors work their department;
//! a concierge also sees the tickets of the buildings they look after; a manager sees all.

use super::auth::StaffUser;
use crate::ticket::repository::Scope;
use crate::ticket::{Department, Role, Ticket};

/// `can_see` as SQL: the scope every ticket list of the staff API and the console binds.
pub fn tickets(user: &StaffUser) -> Scope {
    match user.role {
        Role::Manager => Scope::Everything,
        Role::Worker | Role::Supervisor => Scope::Department {
            department: user.department,
            buildings: Vec::new(),
        },
        Role::Concierge => Scope::Department {
            department: user.department,
            buildings: user.buildings.clone(),
        },
    }
}

/// The tickets of the buildings a concierge looks after (every ticket for a manager): the
/// console's building view.
pub fn buildings(user: &StaffUser) -> Scope {
    match user.role {
        Role::Manager => Scope::Everything,
        _ => Scope::Buildings(user.buildings.clone()),
    }
}

pub fn can_see(user: &StaffUser, department: Department, building: Option<&str>) -> bool {
    match user.role {
        Role::Manager => true,
        Role::Worker | Role::Supervisor => user.department == department,
        Role::Concierge => {
            user.department == department
                || building.is_some_and(|b| user.buildings.iter().any(|mine| mine == b))
        }
    }
}

pub fn can_see_ticket(user: &StaffUser, t: &Ticket) -> bool {
    can_see(user, t.department, t.building.as_deref())
}

/// Reading and taking from a department's queue.
pub fn can_use_queue(user: &StaffUser, department: Department) -> bool {
    user.role == Role::Manager || user.department == department
}

/// Writing to residents: the concierge's job, and their leads'.
pub fn can_reply(user: &StaffUser, t: &Ticket) -> bool {
    user.role != Role::Worker && can_see_ticket(user, t)
}

/// Correcting what the classifier read: anyone but a worker who can see the ticket.
pub fn can_reclassify(user: &StaffUser, t: &Ticket) -> bool {
    user.role != Role::Worker && can_see_ticket(user, t)
}

/// Handing tickets to people.
pub fn can_assign(user: &StaffUser, department: Department) -> bool {
    match user.role {
        Role::Manager => true,
        Role::Supervisor => user.department == department,
        Role::Worker | Role::Concierge => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn user(role: Role, department: Department, buildings: &[&str]) -> StaffUser {
        StaffUser {
            id: Uuid::nil(),
            name: "t".into(),
            department,
            role,
            buildings: buildings.iter().map(|b| b.to_string()).collect(),
        }
    }

    #[test]
    fn role_matrix() {
        use Department::*;
        let w = user(Role::Worker, Engineering, &[]);
        let c = user(Role::Concierge, CustomerService, &["3"]);
        let s = user(Role::Supervisor, Engineering, &[]);
        let m = user(Role::Manager, CustomerService, &[]);

        assert!(can_see(&w, Engineering, Some("3")));
        assert!(!can_see(&w, Security, Some("3")));
        assert!(can_see(&c, Engineering, Some("3")));
        assert!(!can_see(&c, Engineering, Some("1")));
        assert!(!can_see(&c, Engineering, None));
        assert!(can_see(&c, CustomerService, None));
        assert!(can_see(&s, Engineering, None));
        assert!(!can_see(&s, Environment, None));
        assert!(can_see(&m, Security, None));

        assert!(can_use_queue(&w, Engineering));
        assert!(!can_use_queue(&w, Environment));
        assert!(!can_use_queue(&c, Engineering));
        assert!(can_use_queue(&m, Engineering));

        assert!(can_assign(&s, Engineering));
        assert!(!can_assign(&s, Security));
        assert!(!can_assign(&w, Engineering));
        assert!(!can_assign(&c, CustomerService));
        assert!(can_assign(&m, Security));
    }

    #[test]
    fn the_sql_scope_says_what_can_see_says() {
        let c = user(Role::Concierge, Department::CustomerService, &["3"]);
        assert_eq!(
            tickets(&c),
            Scope::Department {
                department: Department::CustomerService,
                buildings: vec!["3".into()]
            }
        );
        let w = user(Role::Worker, Department::Engineering, &["3"]);
        assert_eq!(
            tickets(&w),
            Scope::Department {
                department: Department::Engineering,
                buildings: vec![]
            }
        );
        let m = user(Role::Manager, Department::CustomerService, &[]);
        assert_eq!(tickets(&m), Scope::Everything);
        assert_eq!(buildings(&m), Scope::Everything);
        assert_eq!(buildings(&c), Scope::Buildings(vec!["3".into()]));
    }
}
