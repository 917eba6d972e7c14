//! The workflow of a register whose records move through statuses (a breach, a
//! data-subject request): the moves a status allows, and the one conflict a move it does
//! not allow answers (409 `invalid_transition`).

use std::fmt;

use crate::UseCaseError;

/// A status of a record's workflow.
pub trait Workflow: Copy + Eq + fmt::Display + fmt::Debug {
    /// What the record is called in a refusal ("breach", "request").
    const NOUN: &'static str;
    /// The message of the conflict a move the status does not allow answers.
    const REFUSAL: &'static str;

    /// Whether an action may move a record of this status to `next`.
    fn may_move_to(self, next: Self) -> bool;

    /// Moves to `next` if the status allows it.
    fn move_to(&mut self, next: Self) -> Result<(), InvalidTransition<Self>> {
        if self.may_move_to(next) {
            *self = next;
            Ok(())
        } else {
            Err(InvalidTransition {
                from: *self,
                to: next,
            })
        }
    }
}

/// A move the record's status does not allow (409 `invalid_transition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTransition<S> {
    pub from: S,
    pub to: S,
}

impl<S: Workflow> fmt::Display for InvalidTransition<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} that is {} cannot become {}",
            S::NOUN,
            self.from,
            self.to
        )
    }
}

impl<S: Workflow> std::error::Error for InvalidTransition<S> {}

impl<S: Workflow> From<InvalidTransition<S>> for UseCaseError {
    fn from(_: InvalidTransition<S>) -> Self {
        UseCaseError::Conflict {
            code: "invalid_transition",
            message: S::REFUSAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Door {
        Open,
        Shut,
    }

    impl fmt::Display for Door {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                Door::Open => "open",
                Door::Shut => "shut",
            })
        }
    }

    impl Workflow for Door {
        const NOUN: &'static str = "door";
        const REFUSAL: &'static str = "the door's status does not allow this action";

        fn may_move_to(self, next: Self) -> bool {
            self == Door::Open && next == Door::Shut
        }
    }

    #[test]
    fn a_move_allowed_happens_and_one_refused_changes_nothing() {
        let mut door = Door::Open;
        assert_eq!(door.move_to(Door::Shut), Ok(()));
        assert_eq!(door, Door::Shut);
        let refused = door.move_to(Door::Open).expect_err("shut stays shut");
        assert_eq!(door, Door::Shut);
        assert_eq!(
            refused.to_string(),
            "a door that is shut cannot become open"
        );
        match UseCaseError::from(refused) {
            UseCaseError::Conflict { code, message } => {
                assert_eq!(code, "invalid_transition");
                assert_eq!(message, Door::REFUSAL);
            }
            other => panic!("{other:?}"),
        }
    }
}
