// file-messages.mjs: why a file of the user's was not taken, in plain words
// that name the file, with the technical message kept for "Details". The JS
// API's errors (wasm/unravel.mjs, from the C loader) name the field at fault;
// the common ones are said plainly here: a weights file of the wrong size
// (truncated), a manifest that is not JSON or not a model manifest, bytes
// that are not CIFAR-10 records, a PyTorch checkpoint the C reader refused
// (c/checkpoint.c: its message names the entry, offset or tensor). No DOM:
// app.mjs shows the result.
import { CIFAR } from './config.mjs';

const fmt = (n) => n.toLocaleString('en-US');
const TAKES = "the page takes a model (its .json and .bin, together) or CIFAR-10's test_batch.bin (the binary version), " +
  'or a PyTorch checkpoint (.pt, .pth, .th or .safetensors)';

/**
 * The problem with bytes offered as CIFAR-10 test images, or null when they
 * are whole records with labels 0..9 (what checkCifar in data.mjs demands).
 * @returns {{text: string, detail?: string}|null}
 */
export function cifarProblem(name, bytes) {
  const R = CIFAR.recordBytes;
  const bad = cifarSizeProblem(name, bytes.byteLength);
  if (bad) return bad;
  const u8 = new Uint8Array(bytes);
  for (let i = 0; i < u8.length / R; i++)
    if (u8[i * R] > 9)
      return { text: `${name} is not a CIFAR-10 binary: each 3,073-byte record starts with its label, 0 to 9, ` +
                     `and record ${fmt(i)} starts with ${u8[i * R]}.`,
               detail: `${name}: record ${i} has label ${u8[i * R]}, not 0..9` };
  return null;
}

/** A size that is not whole CIFAR-10 records, or null. */
function cifarSizeProblem(name, size) {
  const R = CIFAR.recordBytes;
  if (size < R)
    return { text: `${name} is ${fmt(size)} bytes, less than one ${fmt(R)}-byte CIFAR-10 record: it is not a CIFAR-10 binary.` };
  if (size % R)
    return { text: `${name} is ${fmt(size)} bytes, not a whole number of ${fmt(R)}-byte CIFAR-10 records ` +
                   `(${fmt(size % R)} bytes left over): the file looks truncated.` };
  return null;
}

/** A file that is neither .json nor .bin. */
export function unknownFileProblem(name) {
  return { text: `${name} is not a file this page reads: ${TAKES}.` };
}

/** A .json that does not parse (e: the SyntaxError) or is not an unravel manifest. */
export function manifestProblem(name, e = null) {
  return e ? { text: `${name} is not a model manifest: it is not valid JSON.`, detail: `${name}: ${e.message}` }
    : { text: `${name} is not a model manifest: it has no "format": "unravel-model".` };
}

/** A manifest given without the weights file it names. */
export function missingWeightsProblem(name, weights) {
  return { text: `${name} needs its weights file, ${weights ?? 'the .bin it names'}: pick or drop both files together.` };
}

/**
 * A .bin given without a manifest. known: manifests the page has (the
 * site's), [{file: 'resnet20.json', json}], whose weights it may be.
 */
export function loneWeightsProblem(name, size, known = []) {
  const asImages = /batch|cifar/i.test(name) && cifarSizeProblem(name, size);   // meant as test images: why they are not
  if (asImages) return asImages;
  const k = known.find((m) => m.json?.weights?.file === name);
  if (k && k.json.weights.bytes !== size)
    return weightsSizeProblem(name, size, k.file, k.json.weights.bytes);
  if (k) return { text: `${name} needs its manifest: pick or drop ${k.file} together with it.` };
  return { text: `${name} came without a model manifest (.json): ${TAKES}.` };
}

function weightsSizeProblem(weights, got, manifest, want) {
  return { text: `${weights} is ${fmt(got)} bytes; its manifest ${manifest} expects ${fmt(want)}: ` +
                 (got < want ? 'the file looks truncated.' : 'it is not the weights this manifest describes.') };
}

/**
 * A model the loader refused (e: the UnravelError, through the worker, with
 * its message and status), given as the manifest and weights files named.
 */
export function modelFileProblem(e, { manifest, weights }) {
  const m = e?.message ?? String(e ?? 'unknown error');
  let r;
  const why = (text) => ({ text, detail: m });
  if ((r = /weights\.bytes: the manifest says (\d+) bytes, the weights file has (\d+)/.exec(m)))
    return { ...weightsSizeProblem(weights, Number(r[2]), manifest, Number(r[1])), detail: m };
  if (/weights\.sha256/.test(m))
    return why(`${weights} has the size ${manifest} expects but not its content (the checksum differs): a damaged file, or another model's weights.`);
  if (e?.status === 'parse' || /malformed JSON/.test(m)) return why(`${manifest} is not a model manifest: it is not valid JSON.`);
  if (/\bformat: /.test(m)) return why(`${manifest} is not a model manifest: it has no "format": "unravel-model".`);
  if (/\bversion: /.test(m)) return why(`${manifest} is a model manifest of a version this page does not read.`);
  if (e?.status === 'nonfinite') return why(`${weights} holds values that are not numbers (NaN or infinity): the weights are damaged.`);
  if (e?.status === 'nomem') return why(`${manifest} describes a network too large for this browser's memory.`);
  return why(`${manifest} with ${weights} is not a model this page can load.`);
}

/** Mean or std typed into the checkpoint form that is not three numbers (std: positive). */
export function normProblem(field, text) {
  return { text: `${field} "${text}" is not three numbers like ${field === 'std' ? '0.247, 0.243, 0.261' : '0.491, 0.482, 0.447'}` +
                 `${field === 'std' ? ', each above 0' : ''}: one per colour channel (red, green, blue), in 0..1 pixel units.` };
}

/**
 * A PyTorch checkpoint that unravel.importCheckpoint refused (e: the
 * UnravelError, through the worker), said plainly; the C message, which
 * names the zip entry, pickle offset or tensor, goes under Details.
 */
export function checkpointProblem(e, name) {
  const m = e?.message ?? String(e ?? 'unknown error');
  const why = (text) => ({ text, detail: m });
  let r;
  if (/not a PyTorch checkpoint|without torch\.save's magic|no state dict inside|not a zip archive/.test(m))
    return why(`${name} is not a PyTorch checkpoint: it is neither a torch.save file (zip or legacy) nor safetensors.`);
  if ((r = /unknown global '([^']*)'/.exec(m)))
    return why(`${name} was refused: besides tensors it holds a Python object (${r[1].replace(' ', '.')}), which would run code ` +
               'to load. The page reads tensors only: save the state dict alone, torch.save(model.state_dict(), path).');
  if ((r = /is (float16|float64|bfloat16|[a-z]+\d*): only float32/.exec(m)))
    return why(`${name} holds ${r[1]} tensors; the page reads float32 only: save it after model.float().`);
  if (/not a complete zip archive|truncated|the file ends|ends before|claims \d+ bytes/.test(m))
    return why(`${name} looks truncated: it ends before the data it describes. Download or copy it again.`);
  if (/compressed|encrypted|zip64|several disks/.test(m))
    return why(`${name} is a zip archive torch.save did not write as it is (compressed, encrypted or zip64): save it again with torch.save.`);
  if (/so it is shortcut B|shortcut B needs projection/.test(m))
    return why(`${name} does not have the shortcut chosen: ${/so it is shortcut B/.test(m) ? 'it has projection shortcuts (B)' : 'it has no projections, so not B'}. Choose auto.`);
  if (/std\[\d\] must be positive/.test(m)) return why(normProblem('std', '').text);
  if (/missing \d+ tensor|has shape|has no place in a CIFAR ResNet|does not belong to|expected layer1|not blocks\.|blocks per stage|linear layer|first dimension/.test(m))
    return why(`${name} is a checkpoint, but not of a CIFAR ResNet this page reads: the names or shapes of its tensors are not those of one.`);
  if (e?.status === 'nomem') return why(`${name} is too large for this browser's memory.`);
  return why(`${name} is not a checkpoint this page can import.`);
}
