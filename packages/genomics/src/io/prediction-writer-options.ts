/**
 * `createPredictionWriter(format, out, options)` as a zod schema: the writers check their options
 * here with the shared message, and the CLI's --threshold goes through the same field.
 */
import { flag, objectOf, optionsObject, probability, text, wholeNumber } from '@metaspliceai/core';

export const predictionWriterOptionsSchema = optionsObject({
  threshold: probability().optional(),
  digits: wholeNumber({ min: 1, max: 17 }).optional(),
  bedGraphDecimals: wholeNumber({ min: 0, max: 17 }).optional(),
  header: flag().optional(),
  trackName: text('a track name').optional(),
  tmpDir: text('a folder path').optional(),
  spoolLimit: wholeNumber({ min: 0 }).optional(),
  tracks: objectOf<readonly unknown[]>('a list of tracks (LoadedModel.tracks)').optional(),
});
