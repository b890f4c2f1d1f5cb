//! Key grammar: fixed-width big-endian fields concatenated, so byte order is
//! numeric order and prefixes select children. Each key kind has an encoder
//! and a parser that refuses bad bytes.

use super::StoreError;
use crate::domain::{ChatId, GroupId, MailId, StaffId};

/// A sha256 of a secret token: the only form secrets are stored in.
pub type TokenHash = [u8; 32];

fn corrupt(what: &str, len: usize) -> StoreError {
    StoreError::Corrupt(format!("{what} key has {len} bytes"))
}

/// u64 as 8 big-endian bytes.
pub fn u64_be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Reads 8 big-endian bytes.
pub fn parse_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| corrupt("u64", bytes.len()))?;
    Ok(u64::from_be_bytes(arr))
}

/// Reads a 16-byte staff id.
pub fn parse_staff_id(bytes: &[u8]) -> Result<StaffId, StoreError> {
    let arr: [u8; 16] = bytes
        .try_into()
        .map_err(|_| corrupt("staff id", bytes.len()))?;
    Ok(StaffId::from_bytes(arr))
}

/// Reads a 16-byte group id.
pub fn parse_group_id(bytes: &[u8]) -> Result<GroupId, StoreError> {
    let arr: [u8; 16] = bytes
        .try_into()
        .map_err(|_| corrupt("group id", bytes.len()))?;
    Ok(GroupId::from_bytes(arr))
}

/// `chatid_seq_message` key: chat (16) + seq (8).
pub fn chat_seq(chat: ChatId, seq: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(&chat.to_bytes());
    k[16..].copy_from_slice(&u64_be(seq));
    k
}

/// `chatid_clientid_seq` key: chat (16) + the client id's bytes.
pub fn chat_client(chat: ChatId, client_id: &str) -> Vec<u8> {
    let mut k = chat.to_bytes().to_vec();
    k.extend_from_slice(client_id.as_bytes());
    k
}

/// Reads a 16-byte chat id.
pub fn parse_chat_id(bytes: &[u8]) -> Result<ChatId, StoreError> {
    let arr: [u8; 16] = bytes
        .try_into()
        .map_err(|_| corrupt("chat id", bytes.len()))?;
    Ok(ChatId::from_bytes(arr))
}

/// `groupid_staffid` key: group (16) + staff (16).
pub fn group_staff(group: GroupId, staff: StaffId) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(&group.to_bytes());
    k[16..].copy_from_slice(&staff.to_bytes());
    k
}

/// Splits a `groupid_staffid` key.
pub fn parse_group_staff(bytes: &[u8]) -> Result<(GroupId, StaffId), StoreError> {
    if bytes.len() != 32 {
        return Err(corrupt("group+staff", bytes.len()));
    }
    Ok((parse_group_id(&bytes[..16])?, parse_staff_id(&bytes[16..])?))
}

/// `staffid_tokenhash` key: staff (16) + token hash (32).
pub fn staff_token(staff: StaffId, hash: &TokenHash) -> [u8; 48] {
    let mut k = [0u8; 48];
    k[..16].copy_from_slice(&staff.to_bytes());
    k[16..].copy_from_slice(hash);
    k
}

/// The token hash of a `staffid_tokenhash` key.
pub fn parse_staff_token(bytes: &[u8]) -> Result<(StaffId, TokenHash), StoreError> {
    if bytes.len() != 48 {
        return Err(corrupt("staff+token", bytes.len()));
    }
    let mut h = [0u8; 32];
    h.copy_from_slice(&bytes[16..]);
    Ok((parse_staff_id(&bytes[..16])?, h))
}

/// `expiry_tokenhash` key: expiry ms (8) + token hash (32).
pub fn expiry_token(expiry_ms: u64, hash: &TokenHash) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..8].copy_from_slice(&u64_be(expiry_ms));
    k[8..].copy_from_slice(hash);
    k
}

/// Splits an `expiry_tokenhash` key.
pub fn parse_expiry_token(bytes: &[u8]) -> Result<(u64, TokenHash), StoreError> {
    if bytes.len() != 40 {
        return Err(corrupt("expiry+token", bytes.len()));
    }
    let mut h = [0u8; 32];
    h.copy_from_slice(&bytes[8..]);
    Ok((parse_u64(&bytes[..8])?, h))
}

/// `due_mailid` and `ticketno_mailid` key: a u64 (a due time, a ticket
/// number) + a mail id (16).
pub fn u64_mail(n: u64, mail: MailId) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&u64_be(n));
    k[8..].copy_from_slice(&mail.to_bytes());
    k
}

/// Reads a `u64_mail` key.
pub fn parse_u64_mail(bytes: &[u8]) -> Result<(u64, MailId), StoreError> {
    if bytes.len() != 24 {
        return Err(corrupt("u64+mail", bytes.len()));
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[8..]);
    Ok((parse_u64(&bytes[..8])?, MailId::from_bytes(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let (g, s, h) = (GroupId::generate(), StaffId::generate(), [7u8; 32]);
        assert_eq!(parse_group_staff(&group_staff(g, s)).expect("ok"), (g, s));
        assert_eq!(parse_staff_token(&staff_token(s, &h)).expect("ok"), (s, h));
        assert_eq!(
            parse_expiry_token(&expiry_token(42, &h)).expect("ok"),
            (42, h)
        );
        assert_eq!(parse_u64(&u64_be(9)).expect("ok"), 9);
        let m = MailId::generate();
        assert_eq!(parse_u64_mail(&u64_mail(7, m)).expect("ok"), (7, m));
        assert!(u64_mail(255, m) < u64_mail(256, MailId::from_bytes([0; 16])));
        assert!(parse_u64_mail(&[0; 23]).is_err());
    }

    #[test]
    fn message_keys_sort_by_chat_then_seq() {
        let (a, b) = (ChatId::generate(), ChatId::generate());
        assert!(chat_seq(a, 255) < chat_seq(a, 256));
        assert!(chat_seq(a, u64::MAX) < chat_seq(b, 0) || a > b);
        assert!(chat_client(a, "m1").starts_with(&a.to_bytes()));
        assert_eq!(parse_chat_id(&a.to_bytes()).expect("ok"), a);
        assert!(parse_chat_id(&[1, 2]).is_err());
    }

    #[test]
    fn expiry_keys_sort_by_time() {
        let h = [0xffu8; 32];
        let l = [0u8; 32];
        assert!(expiry_token(1, &h) < expiry_token(2, &l));
        assert!(expiry_token(255, &h) < expiry_token(256, &l));
    }

    #[test]
    fn bad_bytes_are_errors_not_panics() {
        assert!(parse_u64(&[1, 2]).is_err());
        assert!(parse_group_staff(&[0; 31]).is_err());
        assert!(parse_staff_token(&[0; 47]).is_err());
        assert!(parse_expiry_token(&[]).is_err());
        assert!(parse_staff_id(&[0; 17]).is_err());
    }
}
