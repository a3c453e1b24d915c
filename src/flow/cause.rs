// SPDX-License-Identifier: GPL-2.0-or-later
//! Hang-up causes: ITU-T Q.850 values (both PBXes use them) and the
//! FreeSWITCH-only ones above 127, by name, and what an agent leg that ended
//! with one of them before answering means for routing.

use crate::core::OfferOutcome;

/// A hang-up cause as the PBX reports it.
pub type Cause = u32;

// Q.850.
pub const UNSPECIFIED: Cause = 0;
pub const UNALLOCATED_NUMBER: Cause = 1;
pub const NO_ROUTE_DESTINATION: Cause = 3;
pub const NORMAL_CLEARING: Cause = 16;
pub const USER_BUSY: Cause = 17;
pub const NO_USER_RESPONSE: Cause = 18;
pub const NO_ANSWER: Cause = 19;
pub const SUBSCRIBER_ABSENT: Cause = 20;
pub const CALL_REJECTED: Cause = 21;
pub const DESTINATION_OUT_OF_ORDER: Cause = 27;
pub const NORMAL_UNSPECIFIED: Cause = 31;
pub const NORMAL_CIRCUIT_CONGESTION: Cause = 34;
pub const NETWORK_OUT_OF_ORDER: Cause = 38;
pub const NORMAL_TEMPORARY_FAILURE: Cause = 41;
pub const SWITCH_CONGESTION: Cause = 42;
pub const REQUESTED_CHAN_UNAVAIL: Cause = 44;
pub const BEARERCAPABILITY_NOTAVAIL: Cause = 58;

// FreeSWITCH's own (switch_types.h).
pub const ORIGINATOR_CANCEL: Cause = 487;
pub const SYSTEM_SHUTDOWN: Cause = 701;
pub const LOSE_RACE: Cause = 702;
pub const ALLOTTED_TIMEOUT: Cause = 802;
pub const PICKED_OFF: Cause = 805;
pub const USER_NOT_REGISTERED: Cause = 806;
pub const PROGRESS_TIMEOUT: Cause = 807;
pub const BUSY_EVERYWHERE: Cause = 815;
pub const DECLINE: Cause = 816;
pub const UNWANTED: Cause = 819;
pub const REJECT_ALL: Cause = 825;

/// What an agent leg's end before answering means.
pub fn offer_outcome(cause: Cause) -> OfferOutcome {
    match cause {
        USER_BUSY | BUSY_EVERYWHERE => OfferOutcome::Busy,
        // ORIGINATOR_CANCEL with the caller still there: the ring timeout.
        NO_USER_RESPONSE | NO_ANSWER | ALLOTTED_TIMEOUT | PROGRESS_TIMEOUT | ORIGINATOR_CANCEL => OfferOutcome::NoAnswer,
        LOSE_RACE | PICKED_OFF | SYSTEM_SHUTDOWN => OfferOutcome::Cancelled,
        // The phone hung up (or said no) without a reason of the network.
        UNSPECIFIED | NORMAL_CLEARING | NORMAL_UNSPECIFIED | CALL_REJECTED | DECLINE | REJECT_ALL | UNWANTED => {
            OfferOutcome::Rejected
        }
        // Unallocated, no route, absent, out of order, congestion, not
        // registered, gateway down...
        _ => OfferOutcome::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_map_to_outcomes() {
        assert_eq!(offer_outcome(USER_BUSY), OfferOutcome::Busy);
        assert_eq!(offer_outcome(BUSY_EVERYWHERE), OfferOutcome::Busy);
        assert_eq!(offer_outcome(NO_ANSWER), OfferOutcome::NoAnswer);
        assert_eq!(offer_outcome(NO_USER_RESPONSE), OfferOutcome::NoAnswer);
        assert_eq!(offer_outcome(ORIGINATOR_CANCEL), OfferOutcome::NoAnswer);
        assert_eq!(offer_outcome(LOSE_RACE), OfferOutcome::Cancelled);
        assert_eq!(offer_outcome(CALL_REJECTED), OfferOutcome::Rejected);
        assert_eq!(offer_outcome(NORMAL_CLEARING), OfferOutcome::Rejected);
        assert_eq!(offer_outcome(UNSPECIFIED), OfferOutcome::Rejected);
        assert_eq!(offer_outcome(USER_NOT_REGISTERED), OfferOutcome::Unavailable);
        assert_eq!(offer_outcome(NO_ROUTE_DESTINATION), OfferOutcome::Unavailable);
        assert_eq!(offer_outcome(NORMAL_CIRCUIT_CONGESTION), OfferOutcome::Unavailable);
    }
}
