/**
 * Public surface of effnet's runtime (`import ... from "effnet/runtime"`): backend
 * selection, data sets, training, saving and loading, and the interface every generated
 * module implements (a variant compiled and imported at run time is `importVariantModule`
 * of "effnet"). Loads tfjs and its wasm backend; the compiler API ("effnet") does not.
 */
export { BackendUnavailableError, selectBackend, type BackendChoice, type SelectedBackend } from "./backend.ts";
export {
  TRAINING_KERNELS,
  originalKernel,
  registerTrainingKernels,
  restoreOriginalKernels,
  trainingKernelsFor,
  type TrainingKernel,
} from "./kernels/index.ts";
export {
  SHAPE_CLASSES,
  loadImageFolder,
  readImageFile,
  shapesDataset,
  type ImageDataset,
  type ShapesOptions,
} from "./data.ts";
export { evaluateModel, predictProbabilities, probabilitiesOf, type Evaluation } from "./evaluate.ts";
export { trainModel, type TrainOptions, type TrainProgress, type TrainResult } from "./train.ts";
export { autoWorkers, TrainingWorkerError, type WorkerOptions } from "./parallel.ts";
export { MODEL_JSON, WEIGHTS_BIN, loadModel, saveModel, type TrainedModelInfo } from "./io.ts";
export { type BuildOptions, type GeneratedModelModule, type ModelMetadata } from "./module.ts";
export {
  exportFiles,
  exportForInference,
  loadExported,
  modelArtifacts,
  type InferenceExport,
  type OutputChange,
} from "./export/inference.ts";
export { WEIGHT_TYPES, type WeightType } from "./export/quantize.ts";
