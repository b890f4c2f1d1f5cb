//! The binary's global allocator: the system allocator, except that every
//! block of 8 KiB or more gets a mapping of its own.
//!
//! Why: each connection holds actix-http's 8 KiB read and write buffers
//! (constants there). Fresh from a mapping, only the pages a buffer was
//! written to are resident. glibc maps a block only when no free space in
//! its heap fits it (its `mmap_threshold` tunable is not enough), so after
//! a reconnect storm it carved the new connections' buffers out of the heap
//! the old connections had written, and the whole 16 KiB of every
//! connection became resident: RSS went from 265 to 365 MiB over ten storms
//! with 10,000 visitors (docs/performance.md). A block freed here goes back
//! to the kernel at once, so RSS follows what is in use.
//!
//! Only on Linux (the packaged target, with `mremap`); elsewhere the
//! system allocator as it is.

use std::alloc::{GlobalAlloc, Layout, System};

/// The global allocator of the `livedesk` binary (see the module).
pub struct MappedLarge;

/// Blocks of this size or more get their own mapping.
pub const MAP_FROM: usize = 8192;

#[cfg(target_os = "linux")]
mod imp {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static PAGE: AtomicUsize = AtomicUsize::new(0);

    fn page() -> usize {
        match PAGE.load(Ordering::Relaxed) {
            0 => {
                // SAFETY: sysconf has no preconditions.
                let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
                let p = if p > 0 { p as usize } else { 4096 };
                PAGE.store(p, Ordering::Relaxed);
                p
            }
            p => p,
        }
    }

    fn mapped(layout: &Layout) -> bool {
        layout.size() >= MAP_FROM && layout.align() <= page()
    }

    /// The mapping's length for `size` bytes: whole pages (no overflow: a
    /// Layout's size is at most isize::MAX).
    fn length(size: usize) -> usize {
        let p = page();
        size.div_ceil(p) * p
    }

    unsafe fn map(size: usize) -> *mut u8 {
        // SAFETY: an anonymous private mapping of a non-zero length.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length(size),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }

    unsafe impl GlobalAlloc for MappedLarge {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if mapped(&layout) {
                unsafe { map(layout.size()) }
            } else {
                unsafe { System.alloc(layout) }
            }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            if mapped(&layout) {
                // A fresh anonymous mapping reads as zeros.
                unsafe { map(layout.size()) }
            } else {
                unsafe { System.alloc_zeroed(layout) }
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if mapped(&layout) {
                // SAFETY: ptr is a mapping of this length made by `map`.
                unsafe { libc::munmap(ptr.cast(), length(layout.size())) };
            } else {
                unsafe { System.dealloc(ptr, layout) }
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY (of the caller): new_size is non-zero and, rounded to
            // the alignment, does not overflow isize.
            let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            match (mapped(&layout), mapped(&new)) {
                (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
                (true, true) => {
                    let (from, to) = (length(layout.size()), length(new_size));
                    if from == to {
                        return ptr;
                    }
                    // SAFETY: ptr is a mapping of `from` bytes made by `map`.
                    let p = unsafe { libc::mremap(ptr.cast(), from, to, libc::MREMAP_MAYMOVE) };
                    if p == libc::MAP_FAILED {
                        std::ptr::null_mut()
                    } else {
                        p.cast()
                    }
                }
                _ => {
                    // Across the line: a new block, the bytes, the old one freed.
                    let p = unsafe { self.alloc(new) };
                    if !p.is_null() {
                        let n = layout.size().min(new_size);
                        unsafe {
                            std::ptr::copy_nonoverlapping(ptr, p, n);
                            self.dealloc(ptr, layout);
                        }
                    }
                    p
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
unsafe impl GlobalAlloc for MappedLarge {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Gives the free memory of the system allocator's heaps back to the
/// kernel (glibc's `malloc_trim`). glibc returns only the free space at a
/// heap's top on its own; what a large piece of work (a backup of a
/// million chats: 3.6 million entries read and written) freed in the
/// middle stays resident: after a backup the desk held 602 MiB with 171
/// MB in use, 362 MiB after this (docs/performance.md). sled frees what
/// it evicts a little later (after its epoch moves on), so the
/// housekeeping job calls this every ten minutes, as do the ends of a
/// backup, a transcript index rebuild and the store's opening. Costs a
/// walk over the free lists (milliseconds). Elsewhere than Linux with
/// glibc, nothing.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions; 0 keeps no pad.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anonymous_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("RssAnon:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// 256 MiB of small blocks on one thread, one in 64 kept: what was
    /// freed stays resident until `give_back`, which returns most of it.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn give_back_returns_freed_small_blocks_to_the_kernel() {
        let kept = std::thread::spawn(|| {
            let blocks: Vec<Box<[u8]>> = (0..256 * 1024)
                .map(|i| vec![(i % 251) as u8; 1000].into_boxed_slice())
                .collect();
            blocks.into_iter().step_by(64).collect::<Vec<_>>()
        })
        .join()
        .expect("allocating thread");
        let before = anonymous_kib();
        give_back();
        let after = anonymous_kib();
        assert!(
            before.saturating_sub(after) > 100 * 1024,
            "RssAnon {before} KiB -> {after} KiB after give_back"
        );
        assert!(kept.iter().all(|b| b.len() == 1000));
    }

    /// Writes a pattern, grows and shrinks the block across the line and
    /// within each side, and checks the bytes survive every move.
    #[test]
    fn blocks_keep_their_bytes_across_every_kind_of_realloc() {
        let a = MappedLarge;
        let sizes = [
            100,
            MAP_FROM - 1,
            MAP_FROM,
            MAP_FROM + 1,
            3 * MAP_FROM,
            1 << 20,
            MAP_FROM,
            4000,
            17,
        ];
        unsafe {
            let mut layout = Layout::from_size_align(sizes[0], 8).expect("layout");
            let mut p = a.alloc(layout);
            assert!(!p.is_null());
            for i in 0..sizes[0] {
                *p.add(i) = (i % 251) as u8;
            }
            for &size in &sizes[1..] {
                let keep = layout.size().min(size);
                p = a.realloc(p, layout, size);
                assert!(!p.is_null(), "realloc to {size}");
                for i in 0..keep {
                    assert_eq!(
                        *p.add(i),
                        (i % 251) as u8,
                        "byte {i} after realloc to {size}"
                    );
                }
                layout = Layout::from_size_align(size, 8).expect("layout");
                for i in keep..size {
                    *p.add(i) = (i % 251) as u8;
                }
            }
            a.dealloc(p, layout);

            // Zeroed blocks on both sides of the line, and a page-aligned one.
            for size in [64, MAP_FROM, 5 * MAP_FROM] {
                let l = Layout::from_size_align(size, 4096).expect("layout");
                let z = a.alloc_zeroed(l);
                assert!(!z.is_null());
                assert_eq!(z as usize % 4096, 0);
                assert!((0..size).all(|i| *z.add(i) == 0), "zeroed {size}");
                a.dealloc(z, l);
            }
        }
    }
}
