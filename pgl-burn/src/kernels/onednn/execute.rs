//! Running a prepared primitive on the caller's buffers: each call gets its own stream and
//! memory objects (wrapping the caller's slices, or buffers of pgl's allocator for the
//! reordered copies, so that a step's peak memory counts them), all released when the call
//! ends.

use std::mem::MaybeUninit;

use super::api::{self, ExecArg, Handle, MemoryDesc};
use super::{Operand, Prepared, Runtime, succeeded};

impl Runtime {
    /// Runs `prepared` on `inputs` into `output` (plain layouts), reordering where needed; on
    /// success every value of `output` is written (it need not be initialised before).
    pub(super) fn execute(
        &self,
        prepared: &Prepared,
        inputs: [&[f32]; 2],
        output: &mut [MaybeUninit<f32>],
    ) -> Result<(), String> {
        let mut stream = std::ptr::null_mut();
        // SAFETY: valid out-pointer and engine; default flags (in order).
        succeeded(unsafe { (self.api.stream_create)(&mut stream, self.engine, 1) })?;
        let mut memories = Memories::default();
        let result = self.execute_on(stream, prepared, inputs, output, &mut memories);
        // SAFETY: every memory was created here and is no longer used after the wait.
        unsafe {
            (self.api.stream_wait)(stream);
            for memory in memories.handles {
                (self.api.memory_destroy)(memory);
            }
            (self.api.stream_destroy)(stream);
        }
        result
    }

    fn memory(
        &self,
        md: &MemoryDesc,
        data: Handle,
        memories: &mut Memories,
    ) -> Result<Handle, String> {
        let mut memory = std::ptr::null_mut();
        // SAFETY: a valid descriptor and engine; `data` is a buffer of the descriptor's size
        // (the caller's slice, whose length `run` checked against the plain layout, or a
        // `Memories::buffer` of the descriptor's size).
        succeeded(unsafe { (self.api.memory_create)(&mut memory, md, self.engine, data) })?;
        memories.handles.push(memory);
        Ok(memory)
    }

    /// A memory of the layout `operand` wants, in a fresh buffer, for a reordered copy.
    fn converted(&self, operand: &Operand, memories: &mut Memories) -> Result<Handle, String> {
        let data = memories.buffer(operand.wanted_bytes);
        self.memory(&operand.wanted, data, memories)
    }

    fn exec(&self, stream: Handle, primitive: Handle, args: &[ExecArg]) -> Result<(), String> {
        // SAFETY: a valid primitive and stream; the arguments' memories live until the wait.
        succeeded(unsafe {
            (self.api.primitive_execute)(primitive, stream, args.len() as i32, args.as_ptr())
        })
    }

    /// Runs the reorder primitive `reorder` from memory `from` into memory `to`.
    fn reorder(
        &self,
        stream: Handle,
        reorder: Handle,
        from: Handle,
        to: Handle,
    ) -> Result<(), String> {
        let args = [
            ExecArg {
                arg: api::ARG_SRC,
                memory: from,
            },
            ExecArg {
                arg: api::ARG_DST,
                memory: to,
            },
        ];
        self.exec(stream, reorder, &args)
    }

    fn execute_on(
        &self,
        stream: Handle,
        prepared: &Prepared,
        inputs: [&[f32]; 2],
        output: &mut [MaybeUninit<f32>],
        memories: &mut Memories,
    ) -> Result<(), String> {
        let mut args = Vec::with_capacity(3);
        for (operand, data) in prepared.inputs.iter().zip(inputs) {
            // oneDNN only reads an input; its API takes a mutable handle.
            let user = self.memory(&operand.plain, data.as_ptr() as Handle, memories)?;
            let memory = match operand.reorder {
                Some(reorder) => {
                    let converted = self.converted(operand, memories)?;
                    self.reorder(stream, reorder, user, converted)?;
                    converted
                }
                None => user,
            };
            args.push(ExecArg {
                arg: operand.arg,
                memory,
            });
        }
        let out = &prepared.output;
        let user_out = self.memory(&out.plain, output.as_mut_ptr() as Handle, memories)?;
        let result = match out.reorder {
            Some(_) => self.converted(out, memories)?,
            None => user_out,
        };
        args.push(ExecArg {
            arg: out.arg,
            memory: result,
        });
        self.exec(stream, prepared.primitive, &args)?;
        if let Some(reorder) = out.reorder {
            self.reorder(stream, reorder, result, user_out)?;
        }
        Ok(())
    }
}

/// The memory objects of one call and the buffers of its reordered copies (never read from
/// Rust; oneDNN writes each before reading it).
#[derive(Default)]
struct Memories {
    handles: Vec<Handle>,
    buffers: Vec<Vec<f32>>,
}

impl Memories {
    /// The start of a fresh, 64-byte-aligned buffer of at least `bytes` bytes (oneDNN's own
    /// alignment for the memories it allocates), alive as long as `self`.
    fn buffer(&mut self, bytes: usize) -> Handle {
        const ALIGN: usize = 64;
        let mut buffer = Vec::<f32>::with_capacity(bytes.div_ceil(4) + ALIGN / 4);
        let start = buffer.as_mut_ptr();
        // The allocator aligns to at least 4 bytes, so the gap is whole floats.
        let offset = ((ALIGN - start as usize % ALIGN) % ALIGN) / 4;
        // Moving the vector keeps its heap buffer where it is.
        self.buffers.push(buffer);
        // SAFETY: `offset` < 16 floats, within the capacity's slack.
        unsafe { start.add(offset) as Handle }
    }
}
