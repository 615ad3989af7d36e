/** Public surface of effnet's runtime: backend selection and training kernels. */
export { BackendUnavailableError, selectBackend, type BackendChoice, type SelectedBackend } from "./backend.ts";
export {
  TRAINING_KERNELS,
  originalKernel,
  registerTrainingKernels,
  restoreOriginalKernels,
  trainingKernelsFor,
  type TrainingKernel,
} from "./kernels/index.ts";
