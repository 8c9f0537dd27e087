//! Running a prepared primitive on the caller's buffers: each call gets its own stream and
//! memory objects (wrapping the caller's slices, or allocated by oneDNN for the reordered
//! copies), all released when the call ends.

use super::api::{self, ExecArg, Handle, MemoryDesc};
use super::{Prepared, Runtime, succeeded};

impl Runtime {
    /// Runs `prepared` on `inputs` into `output` (plain layouts), reordering where needed.
    pub(super) fn execute(
        &self,
        prepared: &Prepared,
        inputs: [&[f32]; 2],
        output: &mut [f32],
    ) -> Result<(), String> {
        let mut stream = std::ptr::null_mut();
        // SAFETY: valid out-pointer and engine; default flags (in order).
        succeeded(unsafe { (self.api.stream_create)(&mut stream, self.engine, 1) })?;
        let mut memories: Vec<Handle> = Vec::new();
        let result = self.execute_on(stream, prepared, inputs, output, &mut memories);
        // SAFETY: every memory was created here and is no longer used after the wait.
        unsafe {
            (self.api.stream_wait)(stream);
            for memory in memories {
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
        memories: &mut Vec<Handle>,
    ) -> Result<Handle, String> {
        let mut memory = std::ptr::null_mut();
        // SAFETY: a valid descriptor and engine; `data` is a buffer of the descriptor's size
        // (the caller's slice, checked by length) or MEMORY_ALLOCATE.
        succeeded(unsafe { (self.api.memory_create)(&mut memory, md, self.engine, data) })?;
        memories.push(memory);
        Ok(memory)
    }

    fn exec(&self, stream: Handle, primitive: Handle, args: &[ExecArg]) -> Result<(), String> {
        // SAFETY: a valid primitive and stream; the arguments' memories live until the wait.
        succeeded(unsafe {
            (self.api.primitive_execute)(primitive, stream, args.len() as i32, args.as_ptr())
        })
    }

    fn execute_on(
        &self,
        stream: Handle,
        prepared: &Prepared,
        inputs: [&[f32]; 2],
        output: &mut [f32],
        memories: &mut Vec<Handle>,
    ) -> Result<(), String> {
        let mut args = Vec::with_capacity(3);
        for (operand, data) in prepared.inputs.iter().zip(inputs) {
            // oneDNN only reads an input; its API takes a mutable handle.
            let user = self.memory(&operand.plain, data.as_ptr() as Handle, memories)?;
            let memory = match operand.reorder {
                Some(reorder) => {
                    let converted = self.memory(&operand.wanted, api::MEMORY_ALLOCATE, memories)?;
                    let reorder_args = [
                        ExecArg {
                            arg: api::ARG_SRC,
                            memory: user,
                        },
                        ExecArg {
                            arg: api::ARG_DST,
                            memory: converted,
                        },
                    ];
                    self.exec(stream, reorder, &reorder_args)?;
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
            Some(_) => self.memory(&out.wanted, api::MEMORY_ALLOCATE, memories)?,
            None => user_out,
        };
        args.push(ExecArg {
            arg: out.arg,
            memory: result,
        });
        self.exec(stream, prepared.primitive, &args)?;
        if let Some(reorder) = out.reorder {
            let reorder_args = [
                ExecArg {
                    arg: api::ARG_SRC,
                    memory: result,
                },
                ExecArg {
                    arg: api::ARG_DST,
                    memory: user_out,
                },
            ];
            self.exec(stream, reorder, &reorder_args)?;
        }
        Ok(())
    }
}
