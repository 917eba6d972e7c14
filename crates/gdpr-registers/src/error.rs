/// What the register use cases fail with: the kernel's shared use-case error.
pub type RegistersError = aura_records::UseCaseError;
